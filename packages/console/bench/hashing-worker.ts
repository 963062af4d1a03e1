/**
 * Measures, for scripts/bench/console-hashing.ts, each piece of the console's hashing on its own in a Web
 * Worker: reading the File (BYOB reads as the hash worker does, and `slice().arrayBuffer()` per part as it
 * did before), the WebAssembly SHA-256 and hash-wasm's over bytes already in memory, and WebCrypto's digest
 * of part-sized buffers. Not part of the console's build.
 */
import { createSHA256 } from 'hash-wasm';
import { byteReader } from '../src/byte-reader.js';
import { assembleSha256 } from '../src/sha256/assemble.js';
import { Sha256 } from '../src/sha256/sha256.js';
import type { Request, Result } from './protocol.js';

const UPDATE = 1024 * 1024;
const scope = self as unknown as {
  postMessage(message: Result | { error: string }): void;
  onmessage: ((event: MessageEvent<Request>) => void) | null;
};

function randomPart(partSize: number): Uint8Array {
  const source = new Uint8Array(partSize);
  for (let at = 0; at < partSize; at += 65536) crypto.getRandomValues(source.subarray(at, at + 65536));
  return source;
}

/** `total` bytes of 1 MiB updates cut from one part-sized buffer: the hash alone, no reading. */
function memoryUpdates(source: Uint8Array, total: number, update: (bytes: Uint8Array) => void): void {
  const partSize = source.length;
  for (let done = 0; done < total; done += UPDATE) {
    const at = done % partSize;
    update(source.subarray(at, Math.min(at + UPDATE, partSize, at + total - done)));
  }
}

/** Milliseconds for the mode's work on `file.size` bytes, set-up (buffers, compiling) left out. */
async function measure({ mode, file, partSize }: Request): Promise<number> {
  const size = file.size;
  const source = mode === 'sha256-wasm' || mode === 'hash-wasm' ? randomPart(partSize) : undefined;
  const wasm = mode === 'sha256-wasm' ? new WebAssembly.Module(assembleSha256()) : undefined;
  const hashWasm = mode === 'hash-wasm' ? await createSHA256() : undefined;
  const started = performance.now();
  if (mode === 'read-byob') {
    const read = byteReader(file);
    let buffer = new ArrayBuffer(partSize);
    for (let chunk = await read(new Uint8Array(buffer)); chunk; chunk = await read(new Uint8Array(buffer))) {
      buffer = chunk.buffer;
    }
  } else if (mode === 'read-slice') {
    let next = file.slice(0, partSize).arrayBuffer();
    for (let at = 0; at < size; at += partSize) {
      await next;
      next = file.slice(at + partSize, at + 2 * partSize).arrayBuffer();
    }
  } else if (mode === 'sha256-wasm') {
    const hasher = new Sha256(wasm!);
    memoryUpdates(source!, size, (bytes) => hasher.update(bytes));
    hasher.digestHex();
  } else if (mode === 'hash-wasm') {
    hashWasm!.init();
    memoryUpdates(source!, size, (bytes) => hashWasm!.update(bytes));
    hashWasm!.digest('hex');
  } else {
    const part = new Uint8Array(partSize);
    for (let done = 0; done < size; done += partSize) {
      await crypto.subtle.digest('SHA-256', part.subarray(0, Math.min(partSize, size - done)));
    }
  }
  return performance.now() - started;
}

scope.onmessage = ({ data }) => {
  measure(data).then(
    (ms) => scope.postMessage({ mode: data.mode, bytes: data.file.size, ms }),
    (err: unknown) => scope.postMessage({ error: String(err) }),
  );
};
