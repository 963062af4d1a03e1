import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  TooLarge,
  type BlobStore,
  type ContentReader,
  type PartHashes,
  type StagedPart,
} from '../blob-store.js';
import { fileSink } from './file-sink.js';
import { chunksOf, FilesReader, type Segment } from './files-reader.js';
import { PartHashWorker } from './part-hash-worker.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const PART_FILE = /^\d{1,5}-[0-9a-f]{64}$/;
/** Chunk size of the iterable reads (readPart, readBlob), whose every chunk is a new buffer. */
const CHUNK = 1024 * 1024;

/**
 * Content in a directory. Parts live under parts/<binary-uuid>/<index>-<sha256>: the name carries the hash
 * of its bytes, so a name can never stand for other bytes. A blob is blobs/<aa>/<sha256>/ holding hard
 * links to the parts as segments 1..N: identical content is stored once, and assembling copies nothing.
 * Everything is written under tmp/ first, fsynced, then renamed into place; deletion renames out of place
 * first, so a crash leaves a blob whole or gone, never half-deleted.
 */
export class LocalBlobStore implements BlobStore {
  private readonly partsDir: string;
  private readonly blobsDir: string;
  private readonly tmpDir: string;
  private hashes: PartHashWorker | undefined;

  private constructor(dataDir: string) {
    this.partsDir = join(dataDir, 'parts');
    this.blobsDir = join(dataDir, 'blobs');
    this.tmpDir = join(dataDir, 'tmp');
  }

  static async open(dataDir: string): Promise<LocalBlobStore> {
    const store = new LocalBlobStore(dataDir);
    for (const dir of [store.partsDir, store.blobsDir]) await mkdir(dir, { recursive: true });
    // Leftovers of uploads, assemblies or deletions interrupted by a crash: never referenced.
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true });
    return store;
  }

  private tmpPath(): string {
    return join(this.tmpDir, randomUUID());
  }

  private partDir(binaryId: string): string {
    if (!UUID.test(binaryId)) throw new Error('invalid binary id');
    return join(this.partsDir, binaryId);
  }

  private partPath(binaryId: string, file: string): string {
    if (!PART_FILE.test(file)) throw new Error('invalid part file name');
    return join(this.partDir(binaryId), file);
  }

  private blobPath(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error('invalid blob hash');
    return join(this.blobsDir, sha256.slice(0, 2), sha256);
  }

  async stagePart(
    body: AsyncIterable<Uint8Array>,
    maxBytes: number,
    options: { releaseChunks?: boolean } = {},
  ): Promise<StagedPart> {
    const tmp = this.tmpPath();
    const hash = createHash('sha256');
    let bytes = 0;
    const inspect = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) throw new TooLarge(maxBytes);
      hash.update(chunk);
    };
    try {
      await pipeline(body, fileSink(tmp, { inspect, releaseChunks: options.releaseChunks ?? false }));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const sha256 = hash.digest();
    return {
      bytes,
      sha256,
      commit: async (binaryId, index) => {
        const file = `${index}-${sha256.toString('hex')}`;
        await mkdir(this.partDir(binaryId), { recursive: true });
        await rename(tmp, this.partPath(binaryId, file));
        await fsyncDir(this.partDir(binaryId));
        return file;
      },
      discard: () => rm(tmp, { force: true }),
    };
  }

  async *readPart(binaryId: string, file: string, signal?: AbortSignal): AsyncIterable<Buffer> {
    yield* chunksOf(await this.openPart(binaryId, file), 0, Infinity, CHUNK, signal);
  }

  async openPart(binaryId: string, file: string): Promise<ContentReader> {
    const path = this.partPath(binaryId, file);
    await stat(path); // absent: ENOENT now, not at the first read
    return new FilesReader([{ path, size: Infinity }]);
  }

  partHashes(): PartHashes {
    // One worker for the store, started on first use.
    this.hashes ??= new PartHashWorker((binaryId, file) => this.partPath(binaryId, file));
    return this.hashes;
  }

  async partVersion(binaryId: string, file: string): Promise<string | undefined> {
    try {
      const info = await stat(this.partPath(binaryId, file), { bigint: true });
      return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
    } catch {
      return undefined;
    }
  }

  async removePart(binaryId: string, file: string): Promise<void> {
    await rm(this.partPath(binaryId, file), { force: true });
  }

  async removeParts(binaryId: string): Promise<void> {
    await rm(this.partDir(binaryId), { recursive: true, force: true });
  }

  async partOwners(): Promise<string[]> {
    return (await readdir(this.partsDir)).filter((name) => UUID.test(name));
  }

  async assembleBlob(sha256: string, size: number, binaryId: string, files: string[]): Promise<void> {
    const target = this.blobPath(sha256);
    const existing = await this.statBlob(sha256);
    if (existing?.size === size) return; // the same content is stored already: that is the deduplication
    const staging = this.tmpPath();
    await mkdir(staging);
    for (const [i, file] of files.entries())
      await link(this.partPath(binaryId, file), join(staging, String(i + 1)));
    await fsyncDir(staging);
    await mkdir(join(this.blobsDir, sha256.slice(0, 2)), { recursive: true });
    // A blob of the wrong size (what a crash or a tampering process left) is moved aside, then replaced.
    if (existing) await this.removeBlob(sha256);
    await rename(staging, target);
    await fsyncDir(join(this.blobsDir, sha256.slice(0, 2)));
  }

  private async segments(sha256: string): Promise<Segment[] | undefined> {
    const dir = this.blobPath(sha256);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return undefined;
    }
    const ordered = names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
    return Promise.all(
      ordered.map(async (name) => ({ path: join(dir, name), size: (await stat(join(dir, name))).size })),
    );
  }

  async statBlob(sha256: string): Promise<{ size: number } | undefined> {
    const segments = await this.segments(sha256);
    return segments && { size: segments.reduce((sum, s) => sum + s.size, 0) };
  }

  async *readBlob(sha256: string, start: number, end: number): AsyncIterable<Buffer> {
    const reader = await this.openBlob(sha256);
    if (reader) yield* chunksOf(reader, start, Math.min(end, reader.size - 1), CHUNK);
  }

  async openBlob(sha256: string): Promise<FilesReader | undefined> {
    const segments = await this.segments(sha256);
    return segments && new FilesReader(segments);
  }

  async removeBlob(sha256: string): Promise<void> {
    const aside = this.tmpPath();
    try {
      await rename(this.blobPath(sha256), aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fsyncDir(join(this.blobsDir, sha256.slice(0, 2)));
    await rm(aside, { recursive: true, force: true });
  }
}

/** fsyncs a directory so a rename into it survives a power loss. Best effort: some filesystems refuse. */
async function fsyncDir(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* not supported here; the rename itself is still atomic */
  }
}
