/**
 * One part: ask the API for a presigned URL, then PUT the part's bytes there, streamed from disk.
 * Every attempt opens a fresh read stream (a consumed stream cannot be replayed), checks first that the
 * file is still the one that was hashed, and is aborted when nothing moves for `stallTimeoutMs`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { ApiError, ConflictError, NetworkError, TimeoutError } from '../errors.js';
import type { FileDigest, PartDigest } from '../hash.js';
import type { Logger } from '../logger.js';
import { presignedUrlExpiring } from './presigned-expiry.js';
import { redactUrl } from '../redact.js';
import { isRetryable, parseRetryAfter, withRetry, type RetryPolicy } from '../retry.js';
import type { PartBody } from '../client/bodies.js';
import type { CreatedBinaryPart } from '../types.js';
import type { ProgressTracker } from './progress.js';
import { classifyRefusal, readDetail, scrubUrls } from './storage-errors.js';

export interface PartContext {
  createBinaryPart(binaryPrn: string, body: PartBody): Promise<CreatedBinaryPart>;
  binaryPrn: string;
  binarySize: number;
  filePath: string;
  digest: FileDigest;
  stallTimeoutMs: number;
  retry?: Partial<RetryPolicy>;
  logger: Logger;
  progress: ProgressTracker;
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

/** Reads per part stream: larger than the 64 KiB default to cut per-chunk overhead, small enough × 16 parts. */
const READ_CHUNK = 256 * 1024;
/**
 * Fresh URLs refused again and again are not expiry (clock skew, missing permission, a part that takes
 * longer than the URL lives): more attempts would only re-send the bytes.
 */
const MAX_URL_REFUSALS = 3;

export async function sendPart(ctx: PartContext, part: PartDigest, signal?: AbortSignal): Promise<void> {
  // The client already retried its own API calls; retrying them again here would multiply the attempts.
  const apiFailures = new WeakSet<object>();
  let url: string | undefined;
  let refusals = 0;
  let lastError: unknown;
  let attempts = 0;
  await withRetry(
    async (attempt) => {
      attempts = attempt;
      // A retry after a dropped connection may hold a URL that has run out meanwhile.
      if (url !== undefined && presignedUrlExpiring(url)) url = undefined;
      if (url === undefined) {
        try {
          const created = await ctx.createBinaryPart(ctx.binaryPrn, {
            index: part.index,
            expected_binary_size: ctx.binarySize,
            hash: part.sha256Hex,
            size: part.size,
          });
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
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stall.abort(
        new PartStalledError(`${where}: no progress for ${ctx.stallTimeoutMs} ms; dropping the attempt`),
      );
    }, ctx.stallTimeoutMs);
  };

  let bytesThisAttempt = 0;
  const file =
    part.size > 0
      ? createReadStream(ctx.filePath, {
          start: part.offset,
          end: part.offset + part.size - 1,
          highWaterMark: READ_CHUNK,
        })
      : undefined;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytesThisAttempt += chunk.length;
      ctx.progress.bytesRead(chunk.length);
      arm();
      callback(null, chunk);
    },
  });
  if (file) {
    file.on('error', (err) => counted.destroy(err));
    file.pipe(counted);
  }

  let completed = false;
  try {
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
        body: file ? counted : Buffer.alloc(0),
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
      completed = true;
      ctx.progress.partDone();
      return;
    }
    const detail = await readDetail(response, arm).catch(() => '(no readable body)');
    throw await refusal(ctx, part, where, statusCode, detail, response.headers['retry-after']);
  } finally {
    clearTimeout(timer);
    file?.destroy();
    counted.destroy();
    if (!completed) ctx.progress.attemptFailed(bytesThisAttempt);
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
  if (err instanceof NetworkError || err instanceof ApiError) return err;
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
