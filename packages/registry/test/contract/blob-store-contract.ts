import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TooLarge, type BlobStore } from '../../src/blobs/blob-store.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const all: Buffer[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return Buffer.concat(all);
}

/** A body arriving in several chunks, as a request does. */
const body = (bytes: Buffer) =>
  Readable.from(
    [bytes.subarray(0, 7), bytes.subarray(7, 1000), bytes.subarray(1000)].filter((c) => c.length),
  );

/**
 * What every BlobStore must do, whatever holds the content. Run for the local directory
 * (local-blob-store.contract.test.ts); an S3 store runs the same suite.
 */
export function describeBlobStoreContract(
  name: string,
  makeBlobs: () => Promise<{ blobs: BlobStore; cleanup(): Promise<void> }>,
): void {
  describe(`BlobStore contract: ${name}`, () => {
    let blobs: BlobStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ blobs, cleanup } = await makeBlobs());
    });
    afterEach(async () => cleanup());

    async function committed(binaryId: string, index: number, bytes: Buffer): Promise<string> {
      const staged = await blobs.stagePart(body(bytes), bytes.length);
      return staged.commit(binaryId, index);
    }

    it('stages a part measuring its size and SHA-256; commit makes it readable', async () => {
      const bytes = randomBytes(5000);
      const binaryId = randomUUID();
      const staged = await blobs.stagePart(body(bytes), 10_000);
      expect(staged.bytes).toBe(5000);
      expect(staged.sha256.toString('hex')).toBe(sha(bytes));
      expect(await blobs.partOwners()).not.toContain(binaryId);
      const file = await staged.commit(binaryId, 1);
      expect((await collect(blobs.readPart(binaryId, file))).equals(bytes)).toBe(true);
      expect(await blobs.partVersion(binaryId, file)).toBeTypeOf('string');
      expect(await blobs.partOwners()).toContain(binaryId);
    });

    it('refuses a body past the limit; a discarded part cannot be committed', async () => {
      await expect(blobs.stagePart(body(randomBytes(2000)), 1999)).rejects.toBeInstanceOf(TooLarge);
      await expect(blobs.stagePart(body(randomBytes(2000)), 2000)).resolves.toMatchObject({ bytes: 2000 });
      const discarded = await blobs.stagePart(body(randomBytes(100)), 100);
      await discarded.discard();
      await expect(discarded.commit(randomUUID(), 1)).rejects.toThrow();
    });

    it('keeps a running hash over committed parts in the order they are appended', async () => {
      const binaryId = randomUUID();
      const parts = [randomBytes(3 * 1024 * 1024 + 17), randomBytes(0), randomBytes(4321)];
      const files = [];
      for (const [i, bytes] of parts.entries()) files.push(await committed(binaryId, i + 1, bytes));
      const hashes = blobs.partHashes();
      try {
        const running = hashes.open();
        const other = hashes.open();
        const counts = [];
        for (const file of files) counts.push(await running.append(binaryId, file));
        await other.append(binaryId, files[2]!);
        expect(counts).toEqual(parts.map((p) => p.length));
        expect(await running.digest()).toBe(sha(Buffer.concat(parts)));
        expect(await other.digest()).toBe(sha(parts[2]!));
        // An ended hash takes nothing more, rather than starting over.
        await expect(running.append(binaryId, files[0]!)).rejects.toThrow(/ended/);
      } finally {
        await hashes.close();
      }
    });

    it('a running hash that could not read a part ends: it never goes on from the start', async () => {
      const binaryId = randomUUID();
      const bytes = randomBytes(1000);
      const file = await committed(binaryId, 1, bytes);
      const hashes = blobs.partHashes();
      try {
        const running = hashes.open();
        await running.append(binaryId, file);
        await blobs.removePart(binaryId, file);
        await expect(running.append(binaryId, file)).rejects.toThrow(/ENOENT/);
        await expect(running.digest()).rejects.toThrow(/ended/);
        const dropped = hashes.open();
        dropped.drop();
        await expect(dropped.digest()).rejects.toThrow(/ended/);
      } finally {
        await hashes.close();
      }
      // Once closed, nothing hashes any more.
      expect(() => hashes.open()).toThrow(/stopping/);
    });

    it('removes one part or all parts of a binary', async () => {
      const binaryId = randomUUID();
      const f1 = await committed(binaryId, 1, randomBytes(10));
      const f2 = await committed(binaryId, 2, randomBytes(10));
      await blobs.removePart(binaryId, f1);
      expect(await blobs.partVersion(binaryId, f1)).toBeUndefined();
      expect(await blobs.partVersion(binaryId, f2)).toBeTypeOf('string');
      await blobs.removeParts(binaryId);
      expect(await blobs.partVersion(binaryId, f2)).toBeUndefined();
      expect(await blobs.partOwners()).not.toContain(binaryId);
      await blobs.removeParts(binaryId); // nothing left: still fine
    });

    it('assembles parts into a blob that outlives them and serves ranges across parts', async () => {
      const p1 = randomBytes(3000);
      const p2 = randomBytes(1234);
      const all = Buffer.concat([p1, p2]);
      const binaryId = randomUUID();
      const files = [await committed(binaryId, 1, p1), await committed(binaryId, 2, p2)];
      await blobs.assembleBlob(sha(all), all.length, binaryId, files);
      await blobs.removeParts(binaryId);
      expect(await blobs.statBlob(sha(all))).toEqual({ size: all.length });
      const range = (s: number, e: number) => collect(blobs.readBlob(sha(all), s, e));
      expect((await range(0, all.length - 1)).equals(all)).toBe(true);
      expect((await range(2990, 3010)).equals(all.subarray(2990, 3011))).toBe(true);
      expect((await range(0, 0)).equals(all.subarray(0, 1))).toBe(true);
      expect((await range(3000, all.length - 1)).equals(p2)).toBe(true);
      expect((await range(all.length - 1, all.length - 1)).equals(all.subarray(-1))).toBe(true);
    });

    it('opens a blob for reads by position into the caller buffer, across parts and an empty one', async () => {
      const [p1, empty, p2] = [randomBytes(3000), Buffer.alloc(0), randomBytes(1234)];
      const all = Buffer.concat([p1, p2]);
      const binaryId = randomUUID();
      const files = [
        await committed(binaryId, 1, p1),
        await committed(binaryId, 2, empty),
        await committed(binaryId, 3, p2),
      ];
      await blobs.assembleBlob(sha(all), all.length, binaryId, files);
      expect(await blobs.openBlob('0'.repeat(64))).toBeUndefined();
      const reader = (await blobs.openBlob(sha(all)))!;
      try {
        expect(reader.size).toBe(all.length);
        const buffer = Buffer.alloc(100);
        // Filled across the boundary between the parts, the empty one between them skipped.
        expect(await reader.read(buffer, 2950)).toBe(100);
        expect(buffer.equals(all.subarray(2950, 3050))).toBe(true);
        expect(await reader.read(buffer, 10, 5)).toBe(5);
        expect(buffer.subarray(0, 5).equals(all.subarray(10, 15))).toBe(true);
        // Fewer bytes only at the end, none past it; reading backwards after that is fine.
        expect(await reader.read(buffer, all.length - 30)).toBe(30);
        expect(buffer.subarray(0, 30).equals(all.subarray(-30))).toBe(true);
        expect(await reader.read(buffer, all.length)).toBe(0);
        expect(await reader.read(buffer, 0)).toBe(100);
        expect(buffer.equals(all.subarray(0, 100))).toBe(true);
      } finally {
        await reader.close();
      }
    });

    it('opens a committed part for reads by position; an absent one is refused', async () => {
      const bytes = randomBytes(5000);
      const binaryId = randomUUID();
      const file = await committed(binaryId, 1, bytes);
      const reader = await blobs.openPart(binaryId, file);
      const buffer = Buffer.alloc(4096);
      try {
        expect(await reader.read(buffer, 0)).toBe(4096);
        expect(buffer.equals(bytes.subarray(0, 4096))).toBe(true);
        expect(await reader.read(buffer, 4096)).toBe(904);
        expect(buffer.subarray(0, 904).equals(bytes.subarray(4096))).toBe(true);
        expect(await reader.read(buffer, 5000)).toBe(0);
      } finally {
        await reader.close();
      }
      await blobs.removePart(binaryId, file);
      await expect(blobs.openPart(binaryId, file)).rejects.toThrow();
    });

    it('re-uses a complete blob of the same content, and replaces one of the wrong size', async () => {
      const p1 = randomBytes(2000);
      const p2 = randomBytes(500);
      const all = Buffer.concat([p1, p2]);
      const hash = sha(all);
      const a = randomUUID();
      // What a crash can leave: something under the right name that is not the whole content.
      await blobs.assembleBlob(hash, p1.length, a, [await committed(a, 1, p1)]);
      expect(await blobs.statBlob(hash)).toEqual({ size: p1.length });
      const b = randomUUID();
      await blobs.assembleBlob(hash, all.length, b, [await committed(b, 1, p1), await committed(b, 2, p2)]);
      expect(await blobs.statBlob(hash)).toEqual({ size: all.length });
      expect((await collect(blobs.readBlob(hash, 0, all.length - 1))).equals(all)).toBe(true);
      const c = randomUUID();
      await blobs.assembleBlob(hash, all.length, c, [await committed(c, 1, p1), await committed(c, 2, p2)]);
      expect((await collect(blobs.readBlob(hash, 0, all.length - 1))).equals(all)).toBe(true);
    });

    it('an empty blob has size 0', async () => {
      const binaryId = randomUUID();
      const empty = Buffer.alloc(0);
      await blobs.assembleBlob(sha(empty), 0, binaryId, [await committed(binaryId, 1, empty)]);
      expect(await blobs.statBlob(sha(empty))).toEqual({ size: 0 });
    });

    it('deletes a blob; deleting an absent one is fine', async () => {
      const bytes = randomBytes(100);
      const binaryId = randomUUID();
      await blobs.assembleBlob(sha(bytes), 100, binaryId, [await committed(binaryId, 1, bytes)]);
      await blobs.removeBlob(sha(bytes));
      expect(await blobs.statBlob(sha(bytes))).toBeUndefined();
      await blobs.removeBlob(sha(bytes));
      expect(await blobs.statBlob('0'.repeat(64))).toBeUndefined();
    });
  });
}
