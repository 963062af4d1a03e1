import { createHash, randomFillSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TooLarge } from '../../src/blobs/blob-store.js';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { describeBlobStoreContract } from './blob-store-contract.js';

describeBlobStoreContract('local directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'blob-contract-'));
  return {
    blobs: await LocalBlobStore.open(dir),
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('local directory: memory of what it stores and serves', () => {
  let dir: string;
  let blobs: LocalBlobStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blob-local-'));
    blobs = await LocalBlobStore.open(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Chunks that are each the whole of their own memory, as the HTTP parser's body chunks are. */
  const ownChunks = (sizes: number[]) => sizes.map((n) => randomFillSync(Buffer.allocUnsafeSlow(n)));

  it('frees each body chunk once it is on disk when told the chunks are its own, and stores them whole', async () => {
    const chunks = ownChunks([70_000, 5000, 64 * 1024]);
    const copy = Buffer.concat(chunks);
    const staged = await blobs.stagePart(Readable.from(chunks), copy.length, { releaseChunks: true });
    expect(staged.sha256.toString('hex')).toBe(createHash('sha256').update(copy).digest('hex'));
    expect(chunks.map((c) => c.length)).toEqual([0, 0, 0]);
    const binaryId = randomUUID();
    const file = await staged.commit(binaryId, 1);
    expect(readFileSync(join(dir, 'parts', binaryId, file)).equals(copy)).toBe(true);
  });

  it("leaves the caller's chunks alone unless told, and never frees part of a larger buffer", async () => {
    const kept = ownChunks([70_000, 5000]);
    await blobs.stagePart(Readable.from(kept), 75_000);
    expect(kept.map((c) => c.length)).toEqual([70_000, 5000]);
    const whole = randomFillSync(Buffer.allocUnsafeSlow(10_000));
    const views = [whole.subarray(0, 4000), whole.subarray(4000)];
    await blobs.stagePart(Readable.from(views), 10_000, { releaseChunks: true });
    expect(whole.length).toBe(10_000);
    expect(views.map((c) => c.length)).toEqual([4000, 6000]);
  });

  it('a body past its size is refused and leaves no file behind', async () => {
    await expect(
      blobs.stagePart(Readable.from(ownChunks([6000, 6000])), 10_000, { releaseChunks: true }),
    ).rejects.toBeInstanceOf(TooLarge);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });
});
