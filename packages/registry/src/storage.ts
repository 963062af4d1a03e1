import { randomUUID } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Content on the filesystem. Parts live under parts/<binary-uuid>/<index>-<sha256>: the name carries the
 * hash of its bytes, so a name can never stand for other bytes. Verified content lives in content-addressed
 * blobs/<aa>/<sha256>/ as hard links to the parts (segments 1..N): identical content is stored once, and
 * publishing a blob copies nothing. Everything is written to tmp/ first, fsynced, then renamed into place.
 */
export class Storage {
  readonly partsDir: string;
  readonly blobsDir: string;
  readonly tmpDir: string;

  constructor(readonly dataDir: string) {
    this.partsDir = join(dataDir, 'parts');
    this.blobsDir = join(dataDir, 'blobs');
    this.tmpDir = join(dataDir, 'tmp');
    for (const dir of [this.partsDir, this.blobsDir]) mkdirSync(dir, { recursive: true });
    // Leftovers of uploads or hashing interrupted by a crash: never referenced by the database.
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  tmpPath(): string {
    return join(this.tmpDir, randomUUID());
  }

  partDir(binaryId: string): string {
    if (!UUID.test(binaryId)) throw new Error('invalid binary id');
    return join(this.partsDir, binaryId);
  }

  partFileName(index: number, sha256Hex: string): string {
    if (!Number.isInteger(index) || index < 1 || index > 10_000 || !SHA256.test(sha256Hex)) {
      throw new Error('invalid part file name');
    }
    return `${index}-${sha256Hex}`;
  }

  partPath(binaryId: string, file: string): string {
    if (!/^\d{1,5}-[0-9a-f]{64}$/.test(file)) throw new Error('invalid part file name');
    return join(this.partDir(binaryId), file);
  }

  /** Moves a fully written and fsynced temp file into place as a part. Synchronous on purpose (see hasher). */
  commitPartSync(tmp: string, binaryId: string, file: string): void {
    mkdirSync(this.partDir(binaryId), { recursive: true });
    renameSync(tmp, this.partPath(binaryId, file));
  }

  removePartFileSync(binaryId: string, file: string | null): void {
    if (file) rmSync(this.partPath(binaryId, file), { force: true });
  }

  removePartsSync(binaryId: string): void {
    rmSync(this.partDir(binaryId), { recursive: true, force: true });
  }

  blobPath(sha256Hex: string): string {
    if (!SHA256.test(sha256Hex)) throw new Error('invalid blob hash');
    return join(this.blobsDir, sha256Hex.slice(0, 2), sha256Hex);
  }

  hasBlob(sha256Hex: string): boolean {
    return existsSync(this.blobPath(sha256Hex));
  }

  /**
   * Publishes parts (already verified to hash to sha256Hex) as the blob: hard links into a temp dir, then
   * one rename. When the blob exists already, nothing is written: that is the deduplication.
   */
  publishBlobSync(sha256Hex: string, binaryId: string, files: string[]): void {
    const target = this.blobPath(sha256Hex);
    if (existsSync(target)) return;
    const staging = this.tmpPath();
    mkdirSync(staging);
    files.forEach((file, i) => linkSync(this.partPath(binaryId, file), join(staging, String(i + 1))));
    mkdirSync(join(this.blobsDir, sha256Hex.slice(0, 2)), { recursive: true });
    renameSync(staging, target);
  }

  removeBlobSync(sha256Hex: string): void {
    rmSync(this.blobPath(sha256Hex), { recursive: true, force: true });
  }

  /** The blob's segments in order, with their sizes. */
  blobSegments(sha256Hex: string): { path: string; size: number }[] {
    const dir = this.blobPath(sha256Hex);
    return readdirSync(dir)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(a) - Number(b))
      .map((name) => ({ path: join(dir, name), size: statSync(join(dir, name)).size }));
  }

  /** Streams bytes [start, end] (inclusive) of the blob, segment after segment. */
  async *readBlob(sha256Hex: string, start: number, end: number): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const segment of this.blobSegments(sha256Hex)) {
      const segStart = offset;
      const segEnd = offset + segment.size - 1;
      offset += segment.size;
      if (segment.size === 0 || segEnd < start || segStart > end) continue;
      const stream: Readable = createReadStream(segment.path, {
        start: Math.max(0, start - segStart),
        end: Math.min(segment.size - 1, end - segStart),
      });
      for await (const chunk of stream) yield chunk as Buffer;
    }
  }
}

/** fsyncs a directory so a rename into it survives a power loss. Best effort: some filesystems refuse. */
export async function fsyncDir(path: string): Promise<void> {
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
