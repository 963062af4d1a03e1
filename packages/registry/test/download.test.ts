import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './quiet-sqlite.js';
import { sha256, signableBinary, startTestRegistry, type TestRegistry } from './support.js';

/** Files of the registry's blob directory this process has open. */
function openBlobFiles(dataDir: string): string[] {
  const blobs = join(dataDir, 'blobs');
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.startsWith(blobs));
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the presigned download', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(async () => t.close());

  const downloadUrl = async (prn: string): Promise<string> =>
    (await t.api('GET', `/binaries/${prn}/download_url`)).body.download_url;

  it('sends every byte of a binary of several parts, and ranges of it, the same as stored', async () => {
    const content = randomBytes(11 * 1024 * 1024 + 123); // three parts, the send buffers turn many times
    const binary = await signableBinary(t, content, 'whole');
    const url = await downloadUrl(binary.prn);
    const whole = await fetch(url);
    expect(whole.headers.get('content-length')).toBe(String(content.length));
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(content));
    const from = 5 * 1024 * 1024 - 300_000;
    const to = 10 * 1024 * 1024 + 300_000;
    const span = await fetch(url, { headers: { range: `bytes=${from}-${to}` } });
    expect(span.status).toBe(206);
    expect(Buffer.from(await span.arrayBuffer()).equals(content.subarray(from, to + 1))).toBe(true);
  });

  it('a client that goes away mid-download leaves no file open, and the next download is whole', async () => {
    const content = randomBytes(8 * 1024 * 1024);
    const binary = await signableBinary(t, content, 'cut-short');
    const url = new URL(await downloadUrl(binary.prn));
    await new Promise<void>((resolve, reject) => {
      const req = request(url, (res) => {
        res.once('data', () => {
          // The server has this download's file open now, and a send under way; then the client is gone.
          expect(openBlobFiles(t.dataDir).length).toBeGreaterThan(0);
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) =>
        (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err),
      );
      req.end();
    });
    await until(() => openBlobFiles(t.dataDir).length === 0);
    const again = await fetch(url);
    expect(sha256(Buffer.from(await again.arrayBuffer()))).toBe(sha256(content));
    expect(openBlobFiles(t.dataDir)).toEqual([]);
    expect(t.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('content lost on disk is a 500 that announces no length, and says so in the log', async () => {
    const content = randomBytes(4000);
    const binary = await signableBinary(t, content, 'lost');
    rmSync(join(t.dataDir, 'blobs', binary.hash.slice(0, 2), binary.hash), { recursive: true });
    const res = await fetch(await downloadUrl(binary.prn));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { errors: { detail: string } }).errors.detail).toContain('not available');
    expect(t.logger.lines.some((l) => l.level === 'error' && l.message.includes('missing'))).toBe(true);
  });
});
