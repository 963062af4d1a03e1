/**
 * The console's hash worker in a real Chromium, served by the real registry (`npm run bundle` first): the
 * whole-file hash (WebAssembly) and every part's (WebCrypto, in the part worker) of a File picked in the
 * page, against node:crypto, with part plans that make the part buffers go round several times, an
 * empty file, odd sizes, and a file that does not match its plan.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScene, type Scene } from '../e2e/scene.js';
import { launchBrowser, watchErrors, type Browser } from './browser.js';

const MIB = 1024 * 1024;

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
    await page.evaluate(() => {
      const document = (globalThis as any).document;
      const input = document.createElement('input');
      input.type = 'file';
      input.id = 'picked';
      document.body.append(input);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await scene?.stop();
  });

  /**
   * Runs the served worker on a File of `data` (picked through a file input, as a user picks it) with the
   * given part plan; returns its answer and the progress it reported.
   */
  const hashInPage = async (data: Uint8Array, parts: Parts): Promise<Answer> => {
    const path = join(scene.dir, `hash-${data.length}.bin`);
    writeFileSync(path, data);
    await page.setInputFiles('#picked', path);
    return page.evaluate((parts) => {
      // The page's DOM and Worker; this file is type-checked without the DOM library.
      const page = globalThis as any;
      const file = page.document.getElementById('picked').files[0];
      const worker = new page.Worker('/console/hash-worker.js', { type: 'module' });
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
    }, parts);
  };

  const expected = (data: Uint8Array, parts: Parts) => {
    const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    return {
      hash: hex(data),
      partHashes: parts.map((p) => hex(data.subarray(p.offset, p.offset + p.size))),
      progress: data.length,
    };
  };

  it.each([
    ['an empty file (one empty part)', 0, 1024],
    ['one byte', 1, 1024],
    ['1000 bytes in parts of 300 (four parts: the three buffers go round)', 1000, 300],
    ['5 MiB + 3 in parts of 1 MiB + 7', 5 * MIB + 3, MIB + 7],
    ['40 MiB + 5 in the default 16 MiB parts', 40 * MIB + 5, 16 * MIB],
  ])(
    'hashes %s like node:crypto, whole and per part',
    async (_name, size, partSize) => {
      const data = randomBytes(size);
      const parts = plan(size, partSize);
      expect(await hashInPage(data, parts)).toEqual(expected(data, parts));
      expect(errors).toEqual([]);
    },
    60_000,
  );

  it('fails with a message when the file is shorter or longer than its plan', async () => {
    const short = await hashInPage(randomBytes(2500), plan(3000, 1000));
    expect(short.error).toBe('the file ended at 2500 bytes; was it changed?');
    const long = await hashInPage(randomBytes(3001), plan(3000, 1000));
    expect(long.error).toBe('the file is longer than when it was picked; was it changed?');
    expect(errors).toEqual([]);
  }, 60_000);
});
