/**
 * Hashes a File in one read pass: the SHA-256 of the whole file here, in WebAssembly (./sha256/, streaming,
 * the state carried from chunk to chunk), and each part's SHA-256 by WebCrypto in a second worker
 * (part-worker.ts), so the two run on two threads. The file is read with BYOB reads into a part-sized buffer;
 * a full part's buffer is transferred to the part worker and comes back for reuse. At most three parts are in
 * memory, never the whole file. Each read goes out before the bytes of the one before are hashed, so
 * reading and hashing overlap.
 */
import { byteReader } from './byte-reader.js';
import type { PartAnswer, PartRequest } from './part-worker.js';
import { Sha256 } from './sha256/sha256.js';

export interface HashRequest {
  file: Blob;
  parts: { index: number; offset: number; size: number }[];
}

export type HashMessage =
  | { kind: 'progress'; bytes: number }
  | { kind: 'done'; hash: string; partHashes: string[] }
  | { kind: 'error'; message: string };

/** The module assembleSha256() emitted, put here by scripts/bundle.mjs at build time. */
declare const SHA256_WASM_BASE64: string;
const sha256Module = new WebAssembly.Module(
  Uint8Array.from(atob(SHA256_WASM_BASE64), (c) => c.charCodeAt(0)),
);

/** Progress goes out every few MiB, not for every read (a read is often only 64 KiB–2 MiB). */
const PROGRESS_STEP = 4 * 1024 * 1024;
const PART_BUFFERS = 3;

const scope = self as unknown as {
  postMessage(message: HashMessage): void;
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
};

/** Part hashes in the part worker, with a pool of PART_BUFFERS buffers that go there and back. */
class PartHasher {
  readonly #worker = new Worker('/console/part-worker.js', { type: 'module' });
  readonly #free: ArrayBuffer[] = [];
  readonly #waiting: { resolve(buffer: ArrayBuffer): void; reject(err: Error): void }[] = [];
  readonly #answers = new Map<number, { resolve(hash: string): void; reject(err: Error): void }>();
  readonly #bufferSize: number;
  #created = 0;

  constructor(bufferSize: number) {
    this.#bufferSize = bufferSize;
    this.#worker.onmessage = ({ data }: MessageEvent<PartAnswer>) => {
      if ('error' in data) return this.#fail(new Error(`part ${data.index}: ${data.error}`));
      this.#answers.get(data.index)?.resolve(data.hash);
      this.#answers.delete(data.index);
      const next = this.#waiting.shift();
      if (next) next.resolve(data.buffer);
      else this.#free.push(data.buffer);
    };
    // A worker that fails to load reports a plain Event, without a message.
    this.#worker.onerror = (event) =>
      this.#fail(new Error(event.message || 'the part-hashing worker failed to start'));
  }

  #fail(err: Error): void {
    for (const waiter of [...this.#answers.values(), ...this.#waiting]) waiter.reject(err);
    this.#answers.clear();
    this.#waiting.length = 0;
  }

  /** A buffer to read the next part into; waits for one to come back when all are out. */
  buffer(): Promise<ArrayBuffer> {
    const free = this.#free.pop();
    if (free) return Promise.resolve(free);
    if (this.#created < PART_BUFFERS) {
      this.#created += 1;
      return Promise.resolve(new ArrayBuffer(this.#bufferSize));
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  hash(index: number, buffer: ArrayBuffer, size: number): Promise<string> {
    const answer = new Promise<string>((resolve, reject) => this.#answers.set(index, { resolve, reject }));
    // Awaited only after the last part is read; marked handled so an early failure is not "uncaught".
    answer.catch(() => undefined);
    const request: PartRequest = { index, buffer, size };
    this.#worker.postMessage(request, [buffer]);
    return answer;
  }

  close(): void {
    this.#worker.terminate();
  }
}

async function hashFile({ file, parts }: HashRequest): Promise<HashMessage> {
  const whole = new Sha256(sha256Module);
  const read = byteReader(file);
  const partHasher = new PartHasher(Math.max(1, ...parts.map((p) => p.size)));
  const partHashes: Promise<string>[] = [];
  let unreported = 0;
  try {
    for (const part of parts) {
      const buffer = await partHasher.buffer();
      // A BYOB read needs room for at least a byte; an empty file is one empty part.
      if (part.size === 0) {
        partHashes.push(partHasher.hash(part.index, buffer, 0));
        continue;
      }
      let reading = read(new Uint8Array(buffer, 0, part.size));
      for (let filled = 0; ;) {
        const chunk = await reading;
        if (!chunk) throw new Error(`the file ended at ${part.offset + filled} bytes; was it changed?`);
        filled += chunk.length;
        unreported += chunk.length;
        // The bytes are copied into the hasher first, so the next read can go out while they are hashed.
        whole.write(chunk);
        if (filled === part.size) {
          whole.flush();
          partHashes.push(partHasher.hash(part.index, chunk.buffer, part.size));
          break;
        }
        reading = read(new Uint8Array(chunk.buffer, filled, part.size - filled));
        whole.flush();
        if (unreported >= PROGRESS_STEP) {
          scope.postMessage({ kind: 'progress', bytes: unreported });
          unreported = 0;
        }
      }
    }
    if (await read(new Uint8Array(1)))
      throw new Error('the file is longer than when it was picked; was it changed?');
    const hashes = await Promise.all(partHashes);
    if (unreported > 0) scope.postMessage({ kind: 'progress', bytes: unreported });
    return { kind: 'done', hash: whole.digestHex(), partHashes: hashes };
  } finally {
    partHasher.close();
  }
}

scope.onmessage = (event) => {
  hashFile(event.data).then(
    (message) => scope.postMessage(message),
    (err: unknown) =>
      scope.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
};
