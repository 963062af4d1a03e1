import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { PartReader, ReadBufferPool } from '../../src/upload/part-body.js';

let dir: string;
let handle: FileHandle;
const bytes = randomBytes(50_000);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'part-body-'));
  await writeFile(join(dir, 'f.bin'), bytes);
  handle = await open(join(dir, 'f.bin'), 'r');
});
afterEach(async () => {
  await handle.close();
  await rm(dir, { recursive: true, force: true });
});

/** Pulls every chunk, copying each before the next pull as a socket takes it before undici asks again. */
async function readAll(reader: PartReader): Promise<Buffer[]> {
  const seen: Buffer[] = [];
  for await (const chunk of reader.chunks()) seen.push(Buffer.from(chunk));
  return seen;
}

describe('PartReader', () => {
  it('yields exactly the range, chunk by chunk, alternating between the two buffers it took', async () => {
    const pool = new ReadBufferPool(1, 4096);
    const lengths: number[] = [];
    const reader = new PartReader(handle, 1234, 30_001, pool, (n) => lengths.push(n));
    const backing = new Set<ArrayBufferLike>();
    const seen: Buffer[] = [];
    for await (const chunk of reader.chunks()) {
      seen.push(Buffer.from(chunk));
      backing.add(chunk.buffer);
    }

    expect(Buffer.concat(seen).equals(bytes.subarray(1234, 1234 + 30_001))).toBe(true);
    expect(seen).toHaveLength(Math.ceil(30_001 / 4096));
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(30_001);
    expect(backing.size).toBe(2);
    expect(pool.allocated).toBe(2);
  });

  it('fails with a ConflictError naming the byte when the file is shorter than the part', async () => {
    const reader = new PartReader(handle, 45_000, 8000, new ReadBufferPool(1, 1024), () => {});
    const error = await readAll(reader).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/ended at byte 50000, part needs 53000/);
  });

  it('gives its buffers back only when the body ran to its end and the server answered', async () => {
    const pool = new ReadBufferPool(1, 4096);
    const whole = new PartReader(handle, 0, 10_000, pool, () => {});
    await readAll(whole);
    await whole.release(true);
    // The next attempt runs on the same two buffers: nothing new is allocated.
    const next = new PartReader(handle, 0, 10_000, pool, () => {});
    expect(pool.allocated).toBe(2);

    // Answered, but the body was not pulled to its end (an answer before the last byte): dropped.
    const iterator = next.chunks()[Symbol.asyncIterator]();
    await iterator.next();
    await next.release(true);
    new PartReader(handle, 0, 10_000, pool, () => {});
    expect(pool.allocated).toBe(4);
  });

  it('drops its buffers after a failed attempt, so a retry reads into buffers no dead write can hold', async () => {
    const pool = new ReadBufferPool(1, 4096);
    const failed = new PartReader(handle, 0, 10_000, pool, () => {});
    await readAll(failed);
    await failed.release(false);
    const retry = new PartReader(handle, 0, 10_000, pool, () => {});
    expect(pool.allocated).toBe(4);
    expect(Buffer.concat(await readAll(retry)).equals(bytes.subarray(0, 10_000))).toBe(true);
  });

  it('after release, reads nothing more and reports no progress, however often it is pulled', async () => {
    const lengths: number[] = [];
    const reader = new PartReader(handle, 0, 20_000, new ReadBufferPool(1, 4096), (n) => lengths.push(n));
    const iterator = reader.chunks()[Symbol.asyncIterator]();
    await iterator.next();
    // A read of the next chunk is in flight: release waits for it instead of closing the file under it.
    await reader.release(false);
    await expect(iterator.next()).rejects.toThrow(/the attempt ended/);
    await expect(iterator.next()).resolves.toMatchObject({ done: true });
    expect(lengths).toEqual([4096]);
  });

  it('keeps at most two buffers per attempt in flight', () => {
    const pool = new ReadBufferPool(2, 16);
    const buffers = Array.from({ length: 6 }, () => pool.take());
    for (const buffer of buffers) pool.give(buffer);
    Array.from({ length: 6 }, () => pool.take());
    // Four were kept and handed out again; the other two were dropped and had to be allocated anew.
    expect(pool.allocated).toBe(8);
  });
});
