import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BufferPool, inlinePartSink, workerPartSink, type PartSink } from '../src/part-hashers.js';

const hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Feeds `content` through a sink in chunks of `chunk` bytes, as hashFile's reader does. */
async function run(
  makeSink: (partSize: number, pool: BufferPool) => PartSink,
  content: Buffer,
  partSize: number,
  chunk: number,
): Promise<string[]> {
  const pool = new BufferPool(3, chunk);
  const sink = makeSink(partSize, pool);
  try {
    for (let offset = 0; offset < content.length; offset += chunk) {
      const buffer = await pool.take();
      const length = content.copy(
        new Uint8Array(buffer),
        0,
        offset,
        Math.min(offset + chunk, content.length),
      );
      sink.consume(buffer, length);
    }
    return await sink.finish();
  } finally {
    await sink.close();
  }
}

function expectedParts(content: Buffer, partSize: number): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < content.length; offset += partSize) {
    out.push(hex(content.subarray(offset, offset + partSize)));
  }
  return out.length ? out : [hex(Buffer.alloc(0))];
}

describe.each([
  ['inline', inlinePartSink],
  ['worker', workerPartSink],
])('%s part sink', (_name, makeSink) => {
  it.each([
    // [content size, part size, chunk size]: chunks smaller than, equal to, larger than and unaligned with parts.
    [10_000, 1_000, 300],
    [10_000, 1_000, 1_000],
    [10_001, 1_000, 4_096],
    [9_999, 2_500, 7_000],
    [64, 100, 32],
    [0, 100, 32],
  ])('size %i, parts of %i, chunks of %i', async (size, partSize, chunk) => {
    const content = randomBytes(size);
    expect(await run(makeSink, content, partSize, chunk)).toEqual(expectedParts(content, partSize));
  });
});

describe('workerPartSink', () => {
  it('returns every buffer to the pool', async () => {
    const pool = new BufferPool(2, 1024);
    const sink = workerPartSink(1000, pool);
    for (let i = 0; i < 10; i++) sink.consume(await pool.take(), 1024);
    await sink.finish();
    await sink.close();
    const taken = await Promise.all([pool.take(), pool.take()]);
    expect(taken.every((b) => b.byteLength === 1024)).toBe(true);
  });

  it('rejects waiting readers when the pool fails', async () => {
    const pool = new BufferPool(1, 16);
    await pool.take();
    const waiting = pool.take();
    pool.fail(new Error('worker died'));
    await expect(waiting).rejects.toThrow('worker died');
  });
});
