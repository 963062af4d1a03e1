/**
 * One part: ask the API for a presigned URL (or take the one asked for ahead of time), then PUT the part's
 * bytes there, read from disk into reused buffers (part-body.ts). Every attempt reads the part from its
 * start (a consumed body cannot be replayed), checks first that the file is still the one that was hashed,
 * and is aborted when nothing moves for `stallTimeoutMs`.
 */
import { stat, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { ApiError, ConflictError, NetworkError, PeridioError, TimeoutError } from '../errors.js';
import type { FileDigest, PartDigest } from '../hash.js';
import type { Logger } from '../logger.js';
import { presignedUrlExpiring } from './presigned-expiry.js';
import { redactUrl } from '../redact.js';
import { isRetryable, parseRetryAfter, withRetry, type RetryPolicy } from '../retry.js';
import type { PartBody } from '../client/bodies.js';
import type { CreatedBinaryPart } from '../types.js';
import { openForParts, PartReader, ReadBufferPool } from './part-body.js';
import type { ProgressTracker } from './progress.js';
import { classifyRefusal, readDetail, scrubUrls } from './storage-errors.js';

export interface PartContext {
  createBinaryPart(
    binaryPrn: string,
    body: PartBody,
    options?: { signal?: AbortSignal },
  ): Promise<CreatedBinaryPart>;
  binaryPrn: string;
  binarySize: number;
  filePath: string;
  digest: FileDigest;
  stallTimeoutMs: number;
  retry?: Partial<RetryPolicy>;
  logger: Logger;
  progress: ProgressTracker;
  /** Read buffers shared by the parts in flight (default: this part's own). */
  buffers?: ReadBufferPool;
  dispatcher?: Dispatcher;
}

/** Nothing was accepted or answered for too long; the attempt is dropped and retried. */
export class PartStalledError extends TimeoutError {
  override name = 'PartStalledError';
}

/**
 * The storage refused the presigned URL itself (expired, bad signature, forbidden). The part is
 * retried with a fresh URL from the API rather than hammering the dead one.
 */
export class PresignedUrlRefusedError extends ApiError {
  override name = 'PresignedUrlRefusedError';
}

/**
 * Fresh URLs refused again and again are not expiry (clock skew, missing permission, a part that takes
 * longer than the URL lives): more attempts would only re-send the bytes.
 */
const MAX_URL_REFUSALS = 3;

/**
 * Sends one part, with retries. `early` is the part's URL asked for ahead of time (urls-ahead.ts), taken
 * for the first attempt only; undefined in it means that ask failed and this part asks itself.
 */
export async function sendPart(
  ctx: PartContext,
  part: PartDigest,
  signal?: AbortSignal,
  early?: Promise<string | undefined>,
): Promise<void> {
  // The client already retried its own API calls; retrying them again here would multiply the attempts.
  const apiFailures = new WeakSet<object>();
  let url: string | undefined;
  let refusals = 0;
  let lastError: unknown;
  let attempts = 0;
  await withRetry(
    async (attempt) => {
      attempts = attempt;
      if (early) {
        url = await early;
        early = undefined;
      }
      // A URL asked for ahead, or held by a retry after a dropped connection, may have run out meanwhile.
      if (url !== undefined && presignedUrlExpiring(url)) url = undefined;
      if (url === undefined) {
        try {
          const created = await createPartUrl(ctx, part, signal);
          url = created.presigned_upload_url;
        } catch (err) {
          if (typeof err === 'object' && err !== null) apiFailures.add(err);
          throw err;
        }
      }
      try {
        await putPart(ctx, part, url, signal);
      } catch (err) {
        lastError = err;
        if (err instanceof PresignedUrlRefusedError) {
          url = undefined;
          refusals += 1;
        }
        throw err;
      }
    },
    {
      label: `part ${part.index}`,
      policy: ctx.retry,
      signal,
      logger: ctx.logger,
      shouldRetry: (err) =>
        !(typeof err === 'object' && err !== null && apiFailures.has(err)) &&
        (err instanceof PresignedUrlRefusedError
          ? refusals < MAX_URL_REFUSALS
          : err instanceof PartStalledError || isRetryable(err)),
    },
  );
  // Retries are logged at debug by withRetry; a part that needed them is worth one visible line.
  if (attempts > 1) {
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    ctx.logger.info(`part ${part.index}: sent after ${attempts} attempts (last failure: ${reason})`);
  }
}

/** Creates (or re-creates) the part record; its answer carries the presigned upload URL. */
export function createPartUrl(
  ctx: Pick<PartContext, 'createBinaryPart' | 'binaryPrn' | 'binarySize'>,
  part: PartDigest,
  signal?: AbortSignal,
): Promise<CreatedBinaryPart> {
  const body = {
    index: part.index,
    expected_binary_size: ctx.binarySize,
    hash: part.sha256Hex,
    size: part.size,
  };
  return ctx.createBinaryPart(ctx.binaryPrn, body, { signal });
}

/** The file still has the size and mtime it had when hashed; otherwise its parts' hashes are stale. */
export async function assertFileUnchanged(
  ctx: Pick<PartContext, 'filePath' | 'digest'>,
  part?: PartDigest,
): Promise<void> {
  const { filePath, digest } = ctx;
  const info = await stat(filePath).catch((err: NodeJS.ErrnoException) => {
    throw new ConflictError(`${filePath}: file changed since it was hashed (${err.code ?? err.message})`);
  });
  if (info.size !== digest.size || info.mtimeMs !== digest.mtimeMs) {
    throw new ConflictError(
      `${filePath}: file changed since it was hashed (size ${digest.size} → ${info.size}, ` +
        `modified ${new Date(digest.mtimeMs).toISOString()} → ${new Date(info.mtimeMs).toISOString()}); ` +
        `${part ? `part ${part.index} was not sent. ` : ''}Hash the file again and re-run.`,
    );
  }
}

/** One attempt of the PUT to the presigned URL. Resolves on 200/201; throws a classified error otherwise. */
async function putPart(ctx: PartContext, part: PartDigest, url: string, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  await assertFileUnchanged(ctx, part);

  const where = `part ${part.index} (${redactUrl(url)})`;
  const stall = new AbortController();
  const requestSignal = signal ? AbortSignal.any([signal, stall.signal]) : stall.signal;
  let timer: NodeJS.Timeout | undefined;
  // Once the attempt is over nothing may re-arm its timer: a pull of the body after a failure would
  // otherwise keep the process alive for another stallTimeoutMs.
  let ended = false;
  const arm = (): void => {
    if (ended) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      stall.abort(
        new PartStalledError(`${where}: no progress for ${ctx.stallTimeoutMs} ms; dropping the attempt`),
      );
    }, ctx.stallTimeoutMs);
  };

  let bytesThisAttempt = 0;
  let handle: FileHandle | undefined;
  let body: PartReader | undefined;
  let answered = false;
  try {
    if (part.size > 0) {
      handle = await openForParts(ctx.filePath);
      body = new PartReader(
        handle,
        part.offset,
        part.size,
        ctx.buffers ?? new ReadBufferPool(1),
        (length) => {
          bytesThisAttempt += length;
          ctx.progress.bytesRead(length);
          arm();
        },
      );
    }
    arm();
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'PUT',
        headers: {
          'content-length': String(part.size),
          'content-type': 'application/octet-stream',
          'x-amz-checksum-sha256': part.sha256Base64,
        },
        // undici takes an async iterable body (its docs say so, its types do not), and pulling it one chunk
        // at a time after the socket took the last is what lets PartReader reuse its buffers.
        body: body ? (body.chunks() as unknown as Readable) : Buffer.alloc(0),
        signal: requestSignal,
        dispatcher: ctx.dispatcher,
      });
    } catch (err) {
      throw transportError(err, where, stall.signal, signal);
    }
    arm();
    const { statusCode } = response;
    if (statusCode === 200 || statusCode === 201) {
      await drain(response, arm).catch((err: unknown) => {
        throw transportError(err, where, stall.signal, signal);
      });
      answered = true;
      ctx.progress.partDone();
      return;
    }
    const detail = await readDetail(response, arm).catch(() => '(no readable body)');
    throw await refusal(ctx, part, where, statusCode, detail, response.headers['retry-after']);
  } finally {
    ended = true;
    clearTimeout(timer);
    await body?.release(answered);
    await handle?.close().catch(() => {});
    if (!answered) ctx.progress.attemptFailed(bytesThisAttempt);
  }
}

async function refusal(
  ctx: PartContext,
  part: PartDigest,
  where: string,
  status: number,
  detail: string,
  retryAfter: string | string[] | undefined,
): Promise<Error> {
  const kind = classifyRefusal(status, detail);
  if (kind === 'url-refused') return new PresignedUrlRefusedError(status, 'PUT', where, detail);
  if (kind === 'transient') {
    // A short body can also mean the file shrank under us; that is not worth retrying.
    await assertFileUnchanged(ctx, part);
    return new NetworkError(
      `${where}: the storage did not receive the whole body (HTTP ${status}: ${detail})`,
    );
  }
  if (kind === 'content-mismatch') {
    // Say which of the two it is when we can: a stat change proves the file changed.
    await assertFileUnchanged(ctx, part);
    return new ConflictError(
      `${where}: the storage says the bytes do not match the hash/size computed earlier (HTTP 400: ${detail}). ` +
        `${ctx.filePath} changed since it was hashed, or the bytes were corrupted on the way; ` +
        `hash the file again and re-run.`,
    );
  }
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  return new ApiError(status, 'PUT', where, detail, {}, parseRetryAfter(header));
}

function transportError(err: unknown, where: string, stall: AbortSignal, outer?: AbortSignal): unknown {
  if (stall.aborted && !outer?.aborted) return stall.reason;
  if (outer?.aborted) return outer.reason ?? err;
  // Ours, thrown from inside the body (the file shrank while being read): already says what happened.
  if (err instanceof PeridioError) return err;
  const e = err as { message?: string; code?: string };
  const message = e?.message ? scrubUrls(e.message) : String(err);
  return new NetworkError(`${where}: PUT failed: ${message}`, e?.code, { cause: err });
}

async function drain(response: Dispatcher.ResponseData, onData: () => void): Promise<void> {
  for await (const chunk of response.body) {
    void chunk;
    onData();
  }
}
