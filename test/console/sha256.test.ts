/**
 * The console's WebAssembly SHA-256 (packages/console/src/sha256) against node:crypto, in Node's V8 (the
 * engine Chromium runs it in): lengths around the padding boundaries (55/56, 63/64/65), around the module's
 * four-block groups and its 1 MiB data area, multi-MiB inputs, random inputs cut into random pieces, and a
 * length past 2^32 bits, where the length's high word matters.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleSha256, LAYOUT } from '../../packages/console/src/sha256/assemble.js';
import { Sha256 } from '../../packages/console/src/sha256/sha256.js';

const bytes = assembleSha256();
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const wasm = (data: Uint8Array) => new Sha256(bytes).update(data).digestHex();
const MIB = 1024 * 1024;

describe('WebAssembly SHA-256', () => {
  it('gives the FIPS 180-4 example digests', () => {
    expect(wasm(new Uint8Array())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(wasm(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(wasm(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(wasm(Buffer.alloc(1_000_000, 'a'))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  it('matches node:crypto at every length up to 4 groups of 4 blocks and around the padding boundaries', () => {
    const data = randomBytes(1100);
    const lengths = Array.from({ length: 1025 }, (_, n) => n);
    const wrong = lengths.filter((n) => wasm(data.subarray(0, n)) !== sha256(data.subarray(0, n)));
    expect(wrong).toEqual([]);
  });

  it('matches node:crypto around the 1 MiB data area and on multi-MiB inputs in one update', () => {
    const cap = LAYOUT.capacity;
    const data = randomBytes(3 * cap + 4096);
    for (const n of [
      cap - 65,
      cap - 64,
      cap - 1,
      cap,
      cap + 1,
      cap + 55,
      cap + 64,
      2 * cap + 200,
      data.length,
    ]) {
      expect(wasm(data.subarray(0, n)), `${n} bytes`).toBe(sha256(data.subarray(0, n)));
    }
  });

  it('gives the same digest however the input is cut into updates', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 70_000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (data, cuts) => {
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          const hasher = new Sha256(bytes);
          let from = 0;
          for (const to of [...points, data.length]) {
            hasher.update(data.subarray(from, to));
            from = to;
          }
          return hasher.digestHex() === sha256(data);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matches node:crypto in chunks that straddle the data area (as the hash worker feeds it)', () => {
    const data = randomBytes(5 * MIB + 333);
    const hasher = new Sha256(bytes);
    // Reads of odd sizes, as a stream hands them out, none a multiple of 64.
    for (let at = 0, i = 0; at < data.length; i++) {
      const size = [65_537, 2 * MIB - 1, 131_071, 999][i % 4]!;
      hasher.update(data.subarray(at, at + size));
      at += size;
    }
    expect(hasher.digestHex()).toBe(sha256(data));
  });

  it('encodes a length past 2^32 bits (a file over 512 MiB) right', () => {
    const block = randomBytes(MIB);
    const reference = createHash('sha256');
    const hasher = new Sha256(bytes);
    for (let i = 0; i < 512; i++) {
      reference.update(block);
      hasher.update(block);
    }
    const tail = block.subarray(0, 4097);
    reference.update(tail);
    hasher.update(tail);
    expect(hasher.digestHex()).toBe(reference.digest('hex'));
  }, 120_000);
});
