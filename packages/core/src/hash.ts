import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { ConflictError, InputError } from './errors.js';
import type { Logger } from './logger.js';
import { BufferPool, inlinePartSink, workerPartSink, type PartSink } from './part-hashers.js';
import type { PartPlan, PlannedPart } from './parts.js';

export interface PartDigest extends PlannedPart {
  sha256Hex: string;
  sha256Base64: string;
}

export interface FileDigest {
  size: number;
  sha256Hex: string;
  partSize: number;
  parts: PartDigest[];
  mtimeMs: number;
}

export interface HashOptions {
  signal?: AbortSignal;
  onProgress?: (bytesHashed: number) => void;
  /** Told at debug level how the parts are hashed, so a run shows whether the worker thread was used. */
  logger?: Logger;
}

/** scripts/hash-bench.ts: 1–4 MiB reads perform alike; 2 MiB keeps the pool at 8 MiB. */
const READ_SIZE = 2 * 1024 * 1024;
/** Buffers in flight: one being read ahead, the rest queued for or inside the part-hashing worker. */
const WORKER_POOL = 4;
/** Below this, hashing parts inline costs less than starting a worker thread. */
const INLINE_PARTS_LIMIT = 32 * 1024 * 1024;

/**
 * Hashes a file in one read pass: the whole-file SHA-256 (binary.hash) and each planned part's SHA-256
 * (binary_part.hash, and its base64 for x-amz-checksum-sha256).
 */
export async function hashFile(path: string, plan: PartPlan, options: HashOptions = {}): Promise<FileDigest> {
  options.signal?.throwIfAborted();
  const handle = await openRegularFile(path);
  try {
    const before = await handle.stat();
    if (before.size !== plan.fileSize) {
      throw new ConflictError(
        `${path} is ${before.size} bytes but was planned as ${plan.fileSize}; did it change while publishing?`,
      );
    }
    const [wholeHex, partHexes] = await hashOpenFile(handle, plan, options);
    const after = await handle.stat();
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      throw new ConflictError(`${path} changed while it was being hashed`);
    }
    return {
      size: plan.fileSize,
      sha256Hex: wholeHex,
      partSize: plan.partSize,
      parts: plan.parts.map((part, i) => {
        const hex = partHexes[i] ?? '';
        return { ...part, sha256Hex: hex, sha256Base64: Buffer.from(hex, 'hex').toString('base64') };
      }),
      mtimeMs: before.mtimeMs,
    };
  } finally {
    await handle.close();
  }
}

async function openRegularFile(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new InputError('file', `cannot open ${path} (${code})`, { cause: err });
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new InputError('file', `${path} is ${stat.isDirectory() ? 'a directory' : 'not a regular file'}`);
  }
  return handle;
}

async function hashOpenFile(
  handle: FileHandle,
  plan: PartPlan,
  options: HashOptions,
): Promise<[whole: string, parts: string[]]> {
  const whole = createHash('sha256');
  if (plan.parts.length === 1) {
    // A single part's digest is the whole-file digest: one hash suffices.
    const pool = new BufferPool(2, Math.min(READ_SIZE, Math.max(plan.fileSize, 1)));
    await readAll(handle, plan.fileSize, pool, options, (buffer, length) => {
      whole.update(new Uint8Array(buffer, 0, length));
      pool.give(buffer);
    });
    const hex = whole.digest('hex');
    return [hex, [hex]];
  }
  const inline = plan.fileSize <= INLINE_PARTS_LIMIT;
  options.logger?.debug(
    inline
      ? `hashing ${plan.parts.length} parts in this thread (file up to ${INLINE_PARTS_LIMIT} bytes)`
      : `hashing ${plan.parts.length} parts in a worker thread (file over ${INLINE_PARTS_LIMIT} bytes)`,
  );
  const pool = new BufferPool(inline ? 2 : WORKER_POOL, READ_SIZE);
  const onAbort = (): void => pool.fail(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort);
  const sink: PartSink = inline ? inlinePartSink(plan.partSize, pool) : workerPartSink(plan.partSize, pool);
  try {
    await readAll(handle, plan.fileSize, pool, options, (buffer, length) => {
      whole.update(new Uint8Array(buffer, 0, length));
      sink.consume(buffer, length);
    });
    const parts = await sink.finish();
    return [whole.digest('hex'), parts];
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await sink.close();
  }
}

/**
 * Reads the file front to back with one read always in flight ahead of the consumer, so the kernel copy
 * (on a libuv thread) overlaps hashing of the previous chunk.
 */
async function readAll(
  handle: FileHandle,
  fileSize: number,
  pool: BufferPool,
  options: HashOptions,
  consume: (buffer: ArrayBuffer, length: number) => void,
): Promise<void> {
  const readChunk = async (position: number): Promise<[ArrayBuffer, number]> => {
    const buffer = await pool.take();
    const length = Math.min(buffer.byteLength, fileSize - position);
    const view = new Uint8Array(buffer, 0, length);
    for (let filled = 0; filled < length;) {
      const { bytesRead } = await handle.read(view, filled, length - filled, position + filled);
      if (bytesRead === 0) {
        throw new ConflictError(
          `file shrank while hashing (ended at byte ${position + filled} of ${fileSize})`,
        );
      }
      filled += bytesRead;
    }
    return [buffer, length];
  };
  let position = 0;
  let next = fileSize > 0 ? readChunk(0) : undefined;
  while (next) {
    const [buffer, length] = await next;
    position += length;
    options.signal?.throwIfAborted();
    next = position < fileSize ? readChunk(position) : undefined;
    // Awaited by the next iteration; this only keeps a throw below from leaving it unhandled.
    next?.catch(() => {});
    consume(buffer, length);
    options.onProgress?.(position);
  }
}
