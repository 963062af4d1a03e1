/**
 * Running SHA-256 hashes over part files, computed in a worker thread. The registry hashes each upload's
 * content while its parts arrive (prefix-digest.ts); on the main thread that second pass over every byte
 * (reads, SHA-256, and a fresh buffer per chunk for the collector) took a sixth of the event loop during a
 * 1 GiB upload, time the uploads it was receiving waited for. Here it runs beside them, reading with one
 * reused buffer.
 */
import { Worker } from 'node:worker_threads';
import type { PartHashes, RunningHash } from '../blob-store.js';

// Inline, so the ncc bundle needs no extra file (as core's part hashers do).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const hashes = new Map();
const buffer = Buffer.allocUnsafeSlow(1024 * 1024);
parentPort.on('message', (m) => {
  if (m.op === 'drop') return hashes.delete(m.id);
  try {
    let hash = hashes.get(m.id);
    if (!hash) hashes.set(m.id, (hash = createHash('sha256')));
    if (m.op === 'digest') {
      hashes.delete(m.id);
      return parentPort.postMessage({ seq: m.seq, hex: hash.digest('hex') });
    }
    const fd = openSync(m.path, 'r');
    let bytes = 0;
    try {
      for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; bytes += n) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    parentPort.postMessage({ seq: m.seq, bytes });
  } catch (err) {
    hashes.delete(m.id);
    parentPort.postMessage({ seq: m.seq, error: (err && (err.code || err.message)) || String(err) });
  }
});
`;

interface Reply {
  seq: number;
  bytes?: number;
  hex?: string;
  error?: string;
}

export class PartHashWorker implements PartHashes {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private ids = 0;
  private closed = false;

  constructor(private readonly pathOf: (binaryId: string, file: string) => string) {}

  open(): RunningHash {
    const id = ++this.ids;
    // A hash belongs to the worker it started on: if that one died, its state is gone with it.
    const worker = this.running();
    let ended = false;
    const send = async (
      message: { op: 'append'; path: string } | { op: 'digest' },
      what: string,
    ): Promise<Reply> => {
      if (ended) throw new Error('running hash already ended');
      if (this.worker !== worker) throw new Error('the hashing worker stopped');
      const seq = ++this.seq;
      const reply = new Promise<Reply>((resolve, reject) => this.waiting.set(seq, { resolve, reject }));
      worker.ref(); // an answer is due: until it comes, the worker must not be left behind
      worker.postMessage({ ...message, seq, id });
      const answer = await reply.catch((err: unknown) => {
        ended = true;
        throw err;
      });
      if (answer.error !== undefined) {
        // The worker dropped the hash: appending on would silently start over.
        ended = true;
        throw new Error(`hashing ${what}: ${answer.error}`);
      }
      return answer;
    };
    return {
      append: async (binaryId, file) =>
        (await send({ op: 'append', path: this.pathOf(binaryId, file) }, `part ${file}`)).bytes ?? 0,
      digest: async () => {
        const { hex } = await send({ op: 'digest' }, 'the digest');
        ended = true;
        return hex ?? '';
      },
      drop: () => {
        if (ended) return;
        ended = true;
        if (this.worker === worker) worker.postMessage({ op: 'drop', id });
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error('the registry is stopping'));
    await worker?.terminate();
  }

  private running(): Worker {
    if (this.closed) throw new Error('the registry is stopping');
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.seq);
      this.waiting.delete(reply.seq);
      if (this.waiting.size === 0) worker.unref();
      waiter?.resolve(reply);
    });
    const died = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail(err);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the hashing worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private fail(err: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
  }
}
