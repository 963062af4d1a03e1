import type { Hash } from 'node:crypto';

/**
 * The registry's content, behind one interface so routes and the hasher never touch a filesystem. Parts
 * arrive per binary (`binaryId`, `index`) and are addressed afterwards by the `file` reference that
 * `commit` returns (stored in the part's record). Verified content is a blob, addressed by its SHA-256 and
 * shared by every binary with the same content. A local directory implements it (local/); an S3 bucket
 * can (multipart upload parts → CompleteMultipartUpload → object).
 */
export interface BlobStore {
  /**
   * Streams a part's body into temporary storage, computing its size and SHA-256 in the same pass. Stops
   * with `TooLarge` past `maxBytes`. Nothing is visible under the binary until `commit`; `discard` (or a
   * restart) drops it. `releaseChunks`: the body's chunks are the store's alone (a request's), so it may
   * free each one's memory once it is stored; such a chunk then reads as empty.
   */
  stagePart(
    body: AsyncIterable<Uint8Array>,
    maxBytes: number,
    options?: { releaseChunks?: boolean },
  ): Promise<StagedPart>;
  /** A committed part's bytes, in order, in chunks the caller may keep. */
  readPart(binaryId: string, file: string, signal?: AbortSignal): AsyncIterable<Buffer>;
  /** A committed part, read into the caller's buffers (see ContentReader); rejects when it is absent. */
  openPart(binaryId: string, file: string): Promise<ContentReader>;
  /**
   * Running SHA-256 hashes over committed parts, appended in order: the whole content's hash while its
   * parts arrive. Computed off the caller's thread where the store can (a worker thread for the local
   * directory), so that pass never stalls the uploads the registry is receiving.
   */
  partHashes(): PartHashes;
  /** Changes whenever the stored bytes of this part may have changed (rewritten, tampered); undefined if absent. */
  partVersion(binaryId: string, file: string): Promise<string | undefined>;
  removePart(binaryId: string, file: string): Promise<void>;
  /** Removes every part stored for the binary. */
  removeParts(binaryId: string): Promise<void>;
  /** Binary ids that have parts stored (to find what a crash left behind). */
  partOwners(): Promise<string[]>;

  /**
   * Makes these parts, in order, the blob `sha256` of `size` bytes (the caller verified the hash). An
   * existing blob is re-used only when it is complete (its size is `size`); a broken one is replaced.
   */
  assembleBlob(sha256: string, size: number, binaryId: string, files: string[]): Promise<void>;
  /** The blob's size, or undefined when there is none. */
  statBlob(sha256: string): Promise<{ size: number } | undefined>;
  /** Bytes [start, end] (inclusive) of the blob, in chunks the caller may keep. */
  readBlob(sha256: string, start: number, end: number): AsyncIterable<Buffer>;
  /** The blob and its size, read into the caller's buffers (see ContentReader); undefined when there is none. */
  openBlob(sha256: string): Promise<(ContentReader & { readonly size: number }) | undefined>;
  /** Deletes the blob; afterwards it is either whole or gone, even after a crash. */
  removeBlob(sha256: string): Promise<void>;

  /**
   * Present when clients send content straight to the store and fetch it from there (S3): then the routes
   * hand out the store's own presigned URLs and never see a byte, and the part and blob methods above are
   * not used. Absent for stores the registry proxies (the local directory, behind its own HMAC URLs).
   */
  direct?: DirectUploads;
}

/**
 * Stored content read by position into buffers the caller owns and re-uses. The chunked iterables above
 * allocate a buffer per chunk, which is garbage until the next collection: at a few hundred MiB/s (the
 * hasher, a hundred downloads) that garbage, not the data in flight, is what the process's memory is made of.
 */
export interface ContentReader {
  /**
   * Fills `buffer` (or its first `length` bytes) from `position` on; fewer bytes only at the end of the
   * content, 0 past it.
   */
  read(buffer: Buffer, position: number, length?: number): Promise<number>;
  close(): Promise<void>;
}

/** Size of the one buffer `hashContent` reads through. */
const HASH_BUFFER = 256 * 1024;

/** Feeds the whole content into `hash` through one buffer, then closes the reader; returns the byte count. */
export async function hashContent(reader: ContentReader, hash: Hash, signal?: AbortSignal): Promise<number> {
  const buffer = Buffer.allocUnsafeSlow(HASH_BUFFER);
  let total = 0;
  try {
    for (let n; (n = await reader.read(buffer, total)) > 0; total += n) {
      signal?.throwIfAborted();
      hash.update(n === buffer.length ? buffer : buffer.subarray(0, n));
    }
  } finally {
    await reader.close();
  }
  return total;
}

export interface PartHashes {
  /** A new running hash, over nothing yet. */
  open(): RunningHash;
  /** Stops the hashing; running hashes fail from then on. */
  close(): Promise<void>;
}

export interface RunningHash {
  /** Hashes a committed part's bytes onto the running hash; resolves with their count. */
  append(binaryId: string, file: string): Promise<number>;
  /** Lowercase hex SHA-256 of everything appended; the hash ends. */
  digest(): Promise<string>;
  /** Ends the hash without a digest (the caller no longer needs it). */
  drop(): void;
}

/** One upload of a binary's content: a binary's reset starts the next generation, a new upload. */
export interface UploadRef {
  binaryId: string;
  generation: number;
}

/** A part as the content store holds it. `sha256` (hex) only where the store keeps checksums. */
export interface StoredPart {
  size: number;
  sha256?: string;
}

/**
 * Content uploaded and downloaded by clients directly (presigned URLs), each upload its own object: no
 * content is shared between binaries, so deleting one binary's content never needs to know about another's.
 */
export interface DirectUploads {
  /** Human-readable, for the startup line: `s3://bucket/prefix at http://…`. */
  readonly description: string;
  /** Where the client PUTs part `index` (the upload starts on first use); the body must match `part`. */
  presignPart(
    upload: UploadRef,
    index: number,
    part: { hash: string; size: number },
    ttlSeconds: number,
  ): Promise<string>;
  /** The parts the store holds for this upload, by index (empty when it was never started or is gone). */
  listParts(upload: UploadRef): Promise<Map<number, StoredPart>>;
  /** Makes the parts the upload's object; an upload completed already is fine. */
  complete(upload: UploadRef, indexes: number[]): Promise<void>;
  /** The completed object's size, or undefined. */
  stat(upload: UploadRef): Promise<{ size: number } | undefined>;
  read(upload: UploadRef, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  presignDownload(upload: UploadRef, ttlSeconds: number): Promise<string>;
  /** Aborts the upload and deletes its object: one generation, or every one of the binary. */
  remove(binaryId: string, generation?: number): Promise<void>;
  /** Aborts uploads started more than `olderThanMs` ago (abandoned); returns how many. */
  sweepAbandoned(olderThanMs: number): Promise<number>;
}

/** The content store could not be reached or failed; nothing was recorded as stored. Retryable. */
export class ContentUnavailable extends Error {
  constructor(what: string, cause: unknown) {
    super(`the content store is unavailable (${what}): ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
  }
}

export interface StagedPart {
  bytes: number;
  sha256: Buffer;
  /** Durably places the bytes as part `index` of the binary; returns the reference to store. */
  commit(binaryId: string, index: number): Promise<string>;
  discard(): Promise<void>;
}

/** The body was longer than the part may be. */
export class TooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`body larger than ${maxBytes} bytes`);
  }
}
