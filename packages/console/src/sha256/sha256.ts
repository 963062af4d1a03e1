/**
 * Incremental SHA-256 over the module assembleSha256() emits: bytes are copied into the module's data area
 * (up to a megabyte per call) and hashed there; only the < 64 bytes of an unfinished block stay behind.
 */
import { LAYOUT } from './assemble.js';

/** Typed here because the Node half of the project, whose tests use this, has no DOM library. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => {
    exports: { memory: { buffer: ArrayBuffer }; compress: (ptr: number, blocks: number) => void };
  };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

export class Sha256 {
  readonly #compress: (ptr: number, blocks: number) => void;
  readonly #bytes: Uint8Array;
  readonly #words: Uint32Array;
  /** Bytes of an unfinished block at the start of the data area. */
  #pending = 0;
  #length = 0;

  constructor(module: Uint8Array | object) {
    const compiled = module instanceof Uint8Array ? new wasm.Module(module) : module;
    const { exports } = new wasm.Instance(compiled);
    this.#compress = exports.compress;
    this.#bytes = new Uint8Array(exports.memory.buffer);
    this.#words = new Uint32Array(exports.memory.buffer, LAYOUT.state, 8);
    this.#words.set(IV);
  }

  update(data: Uint8Array): this {
    return this.write(data).flush();
  }

  /**
   * Copies `data` in, hashing each full data area on the way, and leaves the last area's blocks for flush():
   * the caller can let go of `data` (start the next read into its buffer) before the longest step runs.
   */
  write(data: Uint8Array): this {
    this.#length += data.length;
    for (let at = 0; at < data.length;) {
      if (this.#pending === LAYOUT.capacity) this.flush();
      const take = Math.min(data.length - at, LAYOUT.capacity - this.#pending);
      this.#bytes.set(data.subarray(at, at + take), LAYOUT.data + this.#pending);
      at += take;
      this.#pending += take;
    }
    return this;
  }

  /** Hashes the whole blocks written so far; fewer than 64 bytes stay behind. */
  flush(): this {
    const whole = this.#pending & ~63;
    if (whole === 0) return this;
    this.#compress(LAYOUT.data, whole >>> 6);
    this.#bytes.copyWithin(LAYOUT.data, LAYOUT.data + whole, LAYOUT.data + this.#pending);
    this.#pending -= whole;
    return this;
  }

  /** The digest as lowercase hex; the hasher is spent afterwards. */
  digestHex(): string {
    this.flush();
    const end = LAYOUT.data + this.#pending;
    const blocks = this.#pending < 56 ? 1 : 2;
    this.#bytes.fill(0, end, LAYOUT.data + 64 * blocks);
    this.#bytes[end] = 0x80;
    // The length in bits, big-endian, in the last 8 bytes; a Number holds byte counts up to 2^53 exactly.
    const bits = this.#length * 8;
    const tail = new DataView(this.#bytes.buffer, LAYOUT.data + 64 * blocks - 8, 8);
    tail.setUint32(0, Math.floor(bits / 2 ** 32));
    tail.setUint32(4, bits >>> 0);
    this.#compress(LAYOUT.data, blocks);
    return Array.from(this.#words, (w) => w.toString(16).padStart(8, '0')).join('');
  }
}
