/**
 * The resumable upload engine: send every part of a hashed file the server does not already hold,
 * with bounded concurrency and per-part retries, then check on the server that every part is there
 * and valid. It fails loudly instead of leaving a half-uploaded binary for `hashable` to discover.
 */
import type { Dispatcher } from 'undici';
import { ConflictError, InputError, PeridioError } from '../errors.js';
import type { FileDigest, PartDigest } from '../hash.js';
import { silentLogger, type Logger } from '../logger.js';
import { runPool } from './pool.js';
import type { RetryPolicy } from '../retry.js';
import type { BinaryPart, CreatedBinaryPart } from '../types.js';
import type { PartBody } from '../client/bodies.js';
import { assertFileUnchanged, createPartUrl, sendPart, type PartContext } from './part.js';
import { ReadBufferPool } from './part-body.js';
import { ProgressTracker, type UploadProgress } from './progress.js';
import { compareParts, describeMissing, formatIndexes, serverPartSize } from './resume.js';
import { UrlsAhead } from './urls-ahead.js';

export type { UploadProgress } from './progress.js';
export { PartStalledError, PresignedUrlRefusedError } from './part.js';

/** The two Admin API calls the engine needs; `PeridioClient` satisfies it. */
export interface PartsApi {
  /** `signal` cancels the call (a URL asked for ahead that is no longer needed). */
  createBinaryPart(
    binaryPrn: string,
    body: PartBody,
    options?: { signal?: AbortSignal },
  ): Promise<CreatedBinaryPart>;
  listBinaryParts(binaryPrn: string): Promise<BinaryPart[]>;
}

export interface UploadResult {
  partsUploaded: number;
  partsSkipped: number;
  bytesUploaded: number;
  bytesSkipped: number;
  durationMs: number;
  bytesPerSecond: number;
}

export interface UploadOptions {
  api: PartsApi;
  binaryPrn: string;
  /** The binary record's size; sent as `expected_binary_size` with every part. */
  binarySize: number;
  filePath: string;
  digest: FileDigest;
  /** Parts in flight at once: 1..16 (Peridio's CLI caps it at 16 too). Default 4. */
  concurrency?: number;
  /** An attempt with no bytes accepted and no response for this long is dropped and retried. Default 60 s. */
  stallTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  logger?: Logger;
  /** Called as bytes move; the caller throttles. */
  onProgress?: (p: UploadProgress) => void;
  dispatcher?: Dispatcher;
}

export const DEFAULT_UPLOAD_CONCURRENCY = 4;
export const MAX_UPLOAD_CONCURRENCY = 16;
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;
/** After the first pass, parts the server does not list as valid are sent at most this many more times. */
const VERIFY_RESEND_ROUNDS = 1;

/**
 * The server lists parts beyond the ones this file needs, left over from a run with a smaller part
 * size. There is no API to delete one part, and they would end up in the content the server hashes, so
 * the caller must reset the binary (which deletes its parts) and upload again. Nothing was sent.
 */
export class ExtraPartsError extends ConflictError {
  override name = 'ExtraPartsError';
  constructor(
    readonly indexes: number[],
    plannedParts: number,
    /** The part size the earlier upload used, when its parts show one: planning with it resumes that upload. */
    readonly serverPartSize: number | undefined,
  ) {
    super(
      `the server holds parts ${formatIndexes(indexes)} beyond the ${plannedParts} this file needs ` +
        `(left over from an upload with a smaller part size` +
        (serverPartSize ? `: ${serverPartSize} bytes` : '') +
        `); upload with that part size, or delete the binary and upload it again`,
    );
  }
}

/** After the upload and one more try, the server still does not list every part as valid. */
export class IncompleteUploadError extends PeridioError {
  override name = 'IncompleteUploadError';
  constructor(
    readonly indexes: number[],
    detail: string,
  ) {
    super(`upload incomplete: the server does not hold valid parts ${formatIndexes(indexes)} (${detail})`);
  }
}

export async function uploadParts(options: UploadOptions): Promise<UploadResult> {
  const { api, binaryPrn, digest, signal } = options;
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_UPLOAD_CONCURRENCY) {
    throw new InputError(
      'concurrency',
      `must be a whole number from 1 to ${MAX_UPLOAD_CONCURRENCY}, got ${concurrency}`,
    );
  }
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  if (!(stallTimeoutMs > 0))
    throw new InputError('stall-timeout', `must be a positive number of ms, got ${stallTimeoutMs}`);
  if (options.binarySize !== digest.size) {
    throw new ConflictError(
      `the binary record says ${options.binarySize} bytes but ${options.filePath} has ${digest.size}; ` +
        `the record must be reset to the file's hash and size before uploading`,
    );
  }

  const startedAt = Date.now();
  const progress = new ProgressTracker(options.onProgress, logger);
  const ctx: PartContext = {
    createBinaryPart: (prn, body, callOptions) => api.createBinaryPart(prn, body, callOptions),
    binaryPrn,
    binarySize: options.binarySize,
    filePath: options.filePath,
    digest,
    stallTimeoutMs,
    retry: options.retry,
    logger,
    progress,
    buffers: new ReadBufferPool(concurrency),
    dispatcher: options.dispatcher,
  };

  // Fail before asking for anything if the file is no longer the one that was hashed.
  await assertFileUnchanged(ctx);
  const listedAtStart = await api.listBinaryParts(binaryPrn);
  const initial = compareParts(digest.parts, listedAtStart);
  if (initial.extra.length > 0) {
    throw new ExtraPartsError(initial.extra, digest.parts.length, serverPartSize(listedAtStart));
  }
  const bytesSkipped = sum(initial.present);
  logger.info(
    `Uploading ${initial.missing.length} of ${digest.parts.length} parts (${sum(initial.missing)} bytes)` +
      (initial.present.length > 0
        ? `; ${initial.present.length} already on the server (${formatIndexes(initial.present.map((p) => p.index))})`
        : ''),
  );

  let partsUploaded = 0;
  let bytesUploaded = 0;
  const send = async (parts: PartDigest[]): Promise<void> => {
    progress.plan(sum(parts), parts.length);
    const position = new Map(parts.map((part, i) => [part.index, i]));
    const ahead = new UrlsAhead((part, askSignal) => createPartUrl(ctx, part, askSignal), logger, signal);
    try {
      await runPool(
        parts,
        concurrency,
        async (part, poolSignal) => {
          // The part that takes this slot's place next: its URL is there by the time this part is done.
          ahead.prefetch(parts[position.get(part.index)! + concurrency]);
          await sendPart(ctx, part, poolSignal, ahead.take(part));
          partsUploaded += 1;
          bytesUploaded += part.size;
          logger.debug(`part ${part.index}: sent ${part.size} bytes`);
        },
        signal,
      );
    } finally {
      await ahead.close();
    }
  };

  await send(initial.missing);
  for (let round = 0; ; round++) {
    const listed = await api.listBinaryParts(binaryPrn);
    const check = compareParts(digest.parts, listed);
    if (check.missing.length === 0 && check.extra.length === 0) break;
    if (check.extra.length > 0) {
      // They were not there at the start: something else is uploading to this binary at the same time.
      throw new IncompleteUploadError(check.extra, 'parts beyond this file appeared during the upload');
    }
    const indexes = check.missing.map((p) => p.index);
    if (round >= VERIFY_RESEND_ROUNDS) {
      throw new IncompleteUploadError(
        indexes,
        `after sending them again: ${describeMissing(check.missing, listed)}`,
      );
    }
    logger.warning(
      `The server does not hold valid parts ${describeMissing(check.missing, listed)}; sending them again`,
    );
    await send(check.missing);
  }

  const durationMs = Date.now() - startedAt;
  return {
    partsUploaded,
    partsSkipped: initial.present.length,
    bytesUploaded,
    bytesSkipped,
    durationMs,
    bytesPerSecond: durationMs > 0 ? Math.round((bytesUploaded * 1000) / durationMs) : 0,
  };
}

function sum(parts: readonly { size: number }[]): number {
  return parts.reduce((total, part) => total + part.size, 0);
}
