import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { partBody, ReadBufferPool } from '../../src/upload/part-body.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'part-body-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('partBody', () => {
  it('yields exactly the range, chunk by chunk, through two reused buffers', async () => {
    const bytes = randomBytes(50_000);
    const path = join(dir, 'f.bin');
    await writeFile(path, bytes);
    const pool = new ReadBufferPool(4096);
    const buffers: [Buffer, Buffer] = [pool.take(), pool.take()];
    const handle = await open(path, 'r');
    try {
      const seen: Buffer[] = [];
      const backing = new Set<ArrayBufferLike>();
      // Copy each chunk before asking for the next, as a socket takes it before undici asks again.
      for await (const chunk of partBody(handle, 1234, 30_001, buffers)) {
        seen.push(Buffer.from(chunk));
        backing.add(chunk.buffer);
      }
      const got = Buffer.concat(seen);
      expect(got.equals(bytes.subarray(1234, 1234 + 30_001))).toBe(true);
      expect(seen.length).toBe(Math.ceil(30_001 / 4096));
      expect(backing).toEqual(new Set([buffers[0].buffer, buffers[1].buffer]));
    } finally {
      await handle.close();
    }
  });

  it('fails with a ConflictError naming the byte when the file is shorter than the part', async () => {
    const path = join(dir, 'short.bin');
    await writeFile(path, randomBytes(5000));
    const pool = new ReadBufferPool(1024);
    const handle = await open(path, 'r');
    try {
      const read = async (): Promise<void> => {
        for await (const chunk of partBody(handle, 0, 8000, [pool.take(), pool.take()])) void chunk;
      };
      await expect(read()).rejects.toThrow(ConflictError);
      await expect(read()).rejects.toThrow(/ended at byte 5000/);
    } finally {
      await handle.close();
    }
  });

  it('gives back the buffers it was given, so the pool does not grow', () => {
    const pool = new ReadBufferPool(16);
    const a = pool.take();
    pool.give(a);
    expect(pool.take()).toBe(a);
  });
});
