import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { ConflictError, InputError } from './errors.js';
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
}

/** Measured with scripts/hash-bench.ts: 4 MiB reads beat 1 MiB by a few percent; more gains nothing. */
const READ_SIZE = 4 * 1024 * 1024;
/** Buffers in flight between the reader and the part-hashing worker; bounds memory to POOL × READ_SIZE. */
const POOL = 4;

/**
 * Part digests are computed in a worker thread so that the whole-file and per-part SHA-256 (two hashes of
 * every byte) run in parallel and the single read pass keeps up with `openssl dgst`. The source is inline
 * so the ncc bundle needs no extra file.
 */
const PART_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { partSize } = workerData;
const digests = [];
let hash = createHash('sha256');
let inPart = 0;
parentPort.on('message', (msg) => {
  if (msg.done) {
    if (inPart > 0 || digests.length === 0) digests.push(hash.digest('hex'));
    parentPort.postMessage({ digests });
    return;
  }
  const bytes = new Uint8Array(msg.buffer, 0, msg.length);
  let pos = 0;
  while (pos < bytes.length) {
    const take = Math.min(partSize - inPart, bytes.length - pos);
    hash.update(bytes.subarray(pos, pos + take));
    pos += take;
    inPart += take;
    if (inPart === partSize) {
      digests.push(hash.digest('hex'));
      hash = createHash('sha256');
      inPart = 0;
    }
  }
  parentPort.postMessage({ buffer: msg.buffer }, [msg.buffer]);
});
`;

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
    const partHexes =
      plan.parts.length > 1
        ? await hashWithPartWorker(handle, plan, options)
        : await hashSingle(handle, plan, options);
    const after = await handle.stat();
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      throw new ConflictError(`${path} changed while it was being hashed`);
    }
    const [wholeHex, partDigests] = partHexes;
    return {
      size: plan.fileSize,
      sha256Hex: wholeHex,
      partSize: plan.partSize,
      parts: plan.parts.map((part, i) => {
        const hex = partDigests[i] ?? '';
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

type Hexes = [whole: string, parts: string[]];

/**
 * A pool of read buffers shared between the reader and whoever hashes them; `take` waits until one is
 * returned, and rejects once `fail` was called (worker crash, abort).
 */
class BufferPool {
  private readonly free: ArrayBuffer[];
  private failure: { err: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(count: number, size: number) {
    this.free = Array.from({ length: count }, () => new ArrayBuffer(size));
  }

  async take(): Promise<ArrayBuffer> {
    for (;;) {
      if (this.failure) throw this.failure.err;
      const buffer = this.free.pop();
      if (buffer) return buffer;
      await this.changed();
    }
  }

  give(buffer: ArrayBuffer): void {
    this.free.push(buffer);
    this.notify();
  }

  fail(err: unknown): void {
    this.failure ??= { err };
    this.notify();
  }

  /** Waits for `ready()` to hold, rejecting on failure. */
  async until(ready: () => boolean): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure.err;
      if (ready()) return;
      await this.changed();
    }
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private changed(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
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
  consume: (buffer: ArrayBuffer, length: number) => void,
  options: HashOptions,
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
    // Settled later by the loop; this only keeps an early throw below from leaving it unhandled.
    next?.catch(() => {});
    consume(buffer, length);
    options.onProgress?.(position);
  }
}

/** One part: its digest is the whole-file digest, so a single hash suffices. */
async function hashSingle(handle: FileHandle, plan: PartPlan, options: HashOptions): Promise<Hexes> {
  const hash = createHash('sha256');
  const size = Math.min(READ_SIZE, Math.max(plan.fileSize, 1));
  const pool = new BufferPool(2, size);
  await readAll(
    handle,
    plan.fileSize,
    pool,
    (buffer, length) => {
      hash.update(new Uint8Array(buffer, 0, length));
      pool.give(buffer);
    },
    options,
  );
  const hex = hash.digest('hex');
  return [hex, [hex]];
}

async function hashWithPartWorker(handle: FileHandle, plan: PartPlan, options: HashOptions): Promise<Hexes> {
  const worker = new Worker(PART_WORKER_SOURCE, { eval: true, workerData: { partSize: plan.partSize } });
  const pool = new BufferPool(POOL, READ_SIZE);
  let partHexes: string[] | undefined;
  const onAbort = (): void => pool.fail(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort);
  worker.on('message', (msg: { buffer?: ArrayBuffer; digests?: string[] }) => {
    if (msg.buffer) pool.give(msg.buffer);
    if (msg.digests) {
      partHexes = msg.digests;
      pool.notify();
    }
  });
  worker.on('error', (err) => pool.fail(err));
  worker.on('exit', (code) => pool.fail(new Error(`part-hashing worker exited early (code ${code})`)));
  try {
    const whole = createHash('sha256');
    await readAll(
      handle,
      plan.fileSize,
      pool,
      (buffer, length) => {
        whole.update(new Uint8Array(buffer, 0, length));
        worker.postMessage({ buffer, length }, [buffer]);
      },
      options,
    );
    worker.postMessage({ done: true });
    await pool.until(() => partHexes !== undefined);
    return [whole.digest('hex'), partHexes ?? []];
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
