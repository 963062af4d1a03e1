/**
 * Hashes a File in a worker, streaming: File.slice reads a chunk at a time, so a multi-GB file is never in
 * memory. WebCrypto's digest is one-shot, hence hash-wasm's incremental SHA-256 for the whole file; a second
 * worker digests the parts (each at most a part size) with WebCrypto, in parallel.
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
      // A part is at most one part size (16 MiB by default) in memory: WebCrypto's one-shot digest is native
      // and several times faster than any incremental hash in wasm, so the parts cost the whole-file worker
      // no time. The next part is read while the current one is digested.
      const hashes: string[] = [];
      const read = (i: number) => {
        const part = request.parts[i];
        return part ? request.file.slice(part.offset, part.offset + part.size).arrayBuffer() : undefined;
      };
      let next = read(0);
      for (let i = 0; i < request.parts.length; i++) {
        const buffer = await next!;
        next = read(i + 1);
        const digest = await crypto.subtle.digest('SHA-256', buffer);
        hashes.push(Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''));
        progress(buffer.byteLength);
      }
      scope.postMessage({ kind: 'progress', bytes: pending });
      scope.postMessage({ kind: 'parts', hashes });
    }
  })().catch((err: unknown) => scope.postMessage({ kind: 'error', message: String(err) }));
};
