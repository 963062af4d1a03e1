/**
 * The console's hash worker in a real Chromium, served by the real registry (`npm run bundle` first): the
 * whole-file hash (WebAssembly) and every part's (WebCrypto, in the part worker) of in-page Blobs against
 * node:crypto, with part plans that make the two part buffers go round several times, an empty file, odd
 * sizes, and a file that does not match its plan.
 */
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScene, type Scene } from '../e2e/scene.js';
import { launchBrowser, watchErrors, type Browser } from './browser.js';

const MIB = 1024 * 1024;

/** xorshift32 bytes, so the page and the test make the same content without sending it across. */
function content(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function plan(size: number, partSize: number) {
  const parts = [];
  for (let offset = 0, index = 1; offset < size || index === 1; offset += partSize, index++) {
    parts.push({ index, offset, size: Math.min(partSize, size - offset) });
  }
  return parts;
}

type Parts = ReturnType<typeof plan>;
type Answer = { hash?: string; partHashes?: string[]; progress: number; error?: string };

describe('console hash worker', () => {
  let scene: Scene;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    scene = await startScene();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await page.goto(`${scene.registry.baseUrl}/console/`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await scene?.stop();
  });

  /** Runs the served worker on a Blob of `size` bytes from `seed` (optionally `blobSize` bytes instead). */
  const hashInPage = (size: number, seed: number, parts: Parts, blobSize = size) =>
    page.evaluate(
      ([blobSize, seed, parts, source]) => {
        const make = new Function(`return ${source}`)() as (size: number, seed: number) => Uint8Array;
        const file = new Blob([make(blobSize, seed) as Uint8Array<ArrayBuffer>]);
        const worker = new Worker('/console/hash-worker.js', { type: 'module' });
        return new Promise<Answer>((resolve) => {
          let progress = 0;
          worker.onmessage = ({ data }: MessageEvent) => {
            if (data.kind === 'progress') return (progress += data.bytes as number);
            worker.terminate();
            if (data.kind === 'error') resolve({ error: data.message as string, progress });
            else resolve({ hash: data.hash, partHashes: data.partHashes, progress });
          };
          worker.postMessage({ file, parts });
        });
      },
      [blobSize, seed, parts, content.toString()] as const,
    );

  const expected = (size: number, seed: number, parts: Parts) => {
    const data = content(size, seed);
    const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    return {
      hash: hex(data),
      partHashes: parts.map((p) => hex(data.subarray(p.offset, p.offset + p.size))),
      progress: size,
    };
  };

  it.each([
    ['an empty file (one empty part)', 0, 1024],
    ['one byte', 1, 1024],
    ['1000 bytes in parts of 300 (the two buffers go round twice)', 1000, 300],
    ['5 MiB + 3 in parts of 1 MiB + 7', 5 * MIB + 3, MIB + 7],
    ['40 MiB + 5 in the default 16 MiB parts', 40 * MIB + 5, 16 * MIB],
  ])(
    'hashes %s like node:crypto, whole and per part',
    async (_name, size, partSize) => {
      const parts = plan(size, partSize);
      const seed = 0x9e3779b9 ^ size;
      expect(await hashInPage(size, seed, parts)).toEqual(expected(size, seed, parts));
      expect(errors).toEqual([]);
    },
    60_000,
  );

  it('fails with a message when the file is shorter or longer than its plan', async () => {
    const short = await hashInPage(3000, 7, plan(3000, 1000), 2500);
    expect(short.error).toBe('the file ended at 2500 bytes; was it changed?');
    const long = await hashInPage(3000, 7, plan(3000, 1000), 3001);
    expect(long.error).toBe('the file is longer than when it was picked; was it changed?');
    expect(errors).toEqual([]);
  }, 60_000);
});
