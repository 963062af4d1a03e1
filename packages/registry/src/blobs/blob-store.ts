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
   * restart) drops it.
   */
  stagePart(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StagedPart>;
  /** A committed part's bytes, in order. */
  readPart(binaryId: string, file: string, signal?: AbortSignal): AsyncIterable<Buffer>;
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
  /** Bytes [start, end] (inclusive) of the blob. */
  readBlob(sha256: string, start: number, end: number): AsyncIterable<Buffer>;
  /** Deletes the blob; afterwards it is either whole or gone, even after a crash. */
  removeBlob(sha256: string): Promise<void>;
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
