/**
 * Hashes a File in a worker in one read pass, part by part: File.slice reads one part at a time (the next is
 * read while the current one is hashed), so a multi-GB file is never in memory, at most two parts. Each
 * part's buffer feeds hash-wasm's incremental SHA-256 of the whole file (WebCrypto's digest is one-shot) and,
 * at the same time, WebCrypto's native digest of the part.
 */
import { createSHA256 } from 'hash-wasm';

export interface HashRequest {
  file: Blob;
  parts: { index: number; offset: number; size: number }[];
}

export type HashMessage =
  | { kind: 'progress'; bytes: number }
  | { kind: 'done'; hash: string; partHashes: string[] }
  | { kind: 'error'; message: string };

/** hash-wasm is fed in slices so that progress moves smoothly within a part. */
const SLICE = 4 * 1024 * 1024;
const scope = self as unknown as {
  postMessage(message: HashMessage): void;
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
};

const hex = (digest: ArrayBuffer) =>
  Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');

scope.onmessage = (event) => {
  void (async () => {
    const { file, parts } = event.data;
    const whole = await createSHA256();
    whole.init();
    const read = (i: number) => {
      const part = parts[i];
      return part ? file.slice(part.offset, part.offset + part.size).arrayBuffer() : undefined;
    };
    const partHashes: string[] = [];
    let next = read(0);
    for (let i = 0; i < parts.length; i++) {
      const buffer = await next!;
      next = read(i + 1);
      const partDigest = crypto.subtle.digest('SHA-256', buffer);
      const bytes = new Uint8Array(buffer);
      for (let at = 0; at < bytes.length; at += SLICE) {
        const slice = bytes.subarray(at, at + SLICE);
        whole.update(slice);
        scope.postMessage({ kind: 'progress', bytes: slice.length });
      }
      partHashes.push(hex(await partDigest));
    }
    scope.postMessage({ kind: 'done', hash: whole.digest('hex'), partHashes });
  })().catch((err: unknown) => scope.postMessage({ kind: 'error', message: String(err) }));
};
