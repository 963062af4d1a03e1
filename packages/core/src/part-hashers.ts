/**
 * Internals of hashFile: the read-buffer pool and the two ways of hashing parts alongside the whole file
 * (in the calling thread, or in a worker thread so both SHA-256 streams run in parallel).
 */
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * Read buffers shared between the reader and the hashers; `take` waits until one is given back, and
 * everything waiting rejects once `fail` was called (worker crash, abort).
 */
export class BufferPool {
  private readonly free: ArrayBuffer[];
  private failure: { err: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(count: number, size: number) {
    this.free = Array.from({ length: count }, () => new ArrayBuffer(size));
  }

  async take(): Promise<ArrayBuffer> {
    let buffer: ArrayBuffer | undefined;
    await this.until(() => (buffer = this.free.pop()) !== undefined);
    return buffer as ArrayBuffer;
  }

  give(buffer: ArrayBuffer): void {
    this.free.push(buffer);
    this.notify();
  }

  fail(err: unknown): void {
    this.failure ??= { err };
    this.notify();
  }

  /** Waits until `ready()` holds, re-checking whenever the pool is notified. */
  async until(ready: () => boolean): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure.err;
      if (ready()) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Receives every chunk of the file in order, owns it until it gives the buffer back to the pool. */
export interface PartSink {
  consume(buffer: ArrayBuffer, length: number): void;
  /** Lowercase hex SHA-256 of each part, in order; an empty file yields one digest. */
  finish(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Splits the byte stream at part boundaries. Self-contained on purpose: its source text also runs inside
 * the worker, so it may use only its parameters.
 */
function createPartHasher(partSize: number, newHash: () => Hash) {
  const digests: string[] = [];
  let hash = newHash();
  let inPart = 0;
  return {
    update(bytes: Uint8Array): void {
      for (let pos = 0; pos < bytes.length;) {
        const take = Math.min(partSize - inPart, bytes.length - pos);
        hash.update(bytes.subarray(pos, pos + take));
        pos += take;
        inPart += take;
        if (inPart === partSize) {
          digests.push(hash.digest('hex'));
          hash = newHash();
          inPart = 0;
        }
      }
    },
    finish(): string[] {
      if (inPart > 0 || digests.length === 0) digests.push(hash.digest('hex'));
      return digests;
    },
  };
}

/** Hashes parts in the calling thread: cheaper than starting a worker for small files. */
export function inlinePartSink(partSize: number, pool: BufferPool): PartSink {
  const hasher = createPartHasher(partSize, () => createHash('sha256'));
  return {
    consume(buffer, length) {
      hasher.update(new Uint8Array(buffer, 0, length));
      pool.give(buffer);
    },
    finish: () => Promise.resolve(hasher.finish()),
    close: () => Promise.resolve(),
  };
}

// `__name` is what esbuild's keepNames (vitest, tsx) may wrap functions in; the worker has no such helper.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const __name = (f) => f;
const hasher = (${createPartHasher.toString()})(workerData.partSize, () => createHash('sha256'));
parentPort.on('message', (msg) => {
  if (msg.done) return parentPort.postMessage({ digests: hasher.finish() });
  hasher.update(new Uint8Array(msg.buffer, 0, msg.length));
  parentPort.postMessage({ buffer: msg.buffer }, [msg.buffer]);
});
`;

/**
 * Hashes parts in a worker thread, so the whole-file and per-part SHA-256 (two hashes of every byte) run
 * in parallel. Buffers are transferred, not copied, and come back to the pool when hashed. The source is
 * inline so an ncc bundle needs no extra file.
 */
export function workerPartSink(partSize: number, pool: BufferPool): PartSink {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { partSize } });
  let digests: string[] | undefined;
  worker.on('message', (msg: { buffer?: ArrayBuffer; digests?: string[] }) => {
    if (msg.buffer) pool.give(msg.buffer);
    if (msg.digests) {
      digests = msg.digests;
      pool.notify();
    }
  });
  worker.on('error', (err) => pool.fail(err));
  worker.on('exit', (code) => pool.fail(new Error(`part-hashing worker exited early (code ${code})`)));
  return {
    consume(buffer, length) {
      worker.postMessage({ buffer, length }, [buffer]);
    },
    async finish() {
      worker.postMessage({ done: true });
      await pool.until(() => digests !== undefined);
      return digests ?? [];
    },
    async close() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
