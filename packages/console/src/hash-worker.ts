/**
 * Hashes a File in a worker, streaming: File.slice reads a chunk at a time, so a multi-GB file is never in
 * memory. WebCrypto's digest is one-shot, hence hash-wasm's incremental SHA-256. One worker hashes the whole
 * file and another the parts, in parallel (each byte is hashed twice, once on each core).
 */
import { createSHA256 } from 'hash-wasm';

export type HashRequest =
  | { kind: 'whole'; file: File }
  | { kind: 'parts'; file: File; parts: { index: number; offset: number; size: number }[] };

export type HashMessage =
  | { kind: 'progress'; bytes: number }
  | { kind: 'whole'; hash: string }
  | { kind: 'parts'; hashes: string[] }
  | { kind: 'error'; message: string };

const CHUNK = 8 * 1024 * 1024;
const scope = self as unknown as {
  postMessage(message: HashMessage): void;
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
};

async function hashRange(
  file: File,
  offset: number,
  size: number,
  hasher: Awaited<ReturnType<typeof createSHA256>>,
  progress: (bytes: number) => void,
) {
  hasher.init();
  // Read ahead one chunk while the current one is hashed.
  let next = size > 0 ? file.slice(offset, offset + Math.min(CHUNK, size)).arrayBuffer() : undefined;
  for (let done = 0; done < size;) {
    const buffer = await next!;
    const at = done + buffer.byteLength;
    next = at < size ? file.slice(offset + at, offset + Math.min(at + CHUNK, size)).arrayBuffer() : undefined;
    hasher.update(new Uint8Array(buffer));
    done = at;
    progress(buffer.byteLength);
  }
  return hasher.digest('hex');
}

scope.onmessage = (event) => {
  void (async () => {
    const request = event.data;
    const hasher = await createSHA256();
    let pending = 0;
    let last = 0;
    const progress = (bytes: number) => {
      pending += bytes;
      const now = performance.now();
      if (now - last > 100) {
        scope.postMessage({ kind: 'progress', bytes: pending });
        pending = 0;
        last = now;
      }
    };
    if (request.kind === 'whole') {
      const hash = await hashRange(request.file, 0, request.file.size, hasher, progress);
      scope.postMessage({ kind: 'progress', bytes: pending });
      scope.postMessage({ kind: 'whole', hash });
    } else {
      const hashes: string[] = [];
      for (const part of request.parts) {
        hashes.push(await hashRange(request.file, part.offset, part.size, hasher, progress));
      }
      scope.postMessage({ kind: 'progress', bytes: pending });
      scope.postMessage({ kind: 'parts', hashes });
    }
  })().catch((err: unknown) => scope.postMessage({ kind: 'error', message: String(err) }));
};
