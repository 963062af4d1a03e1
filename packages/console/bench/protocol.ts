/** What scripts/bench/console-hashing.ts and hashing-worker.ts send each other; types only. */
export type Mode = 'read-byob' | 'read-slice' | 'sha256-wasm' | 'hash-wasm' | 'webcrypto-parts';

export interface Request {
  mode: Mode;
  file: Blob;
  partSize: number;
}

export interface Result {
  mode: Mode;
  bytes: number;
  ms: number;
}
