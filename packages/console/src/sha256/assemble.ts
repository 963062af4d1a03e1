/**
 * Emits, at build time, the WebAssembly module behind the console's streaming SHA-256 (FIPS 180-4). hash-wasm
 * cost ~3.0–3.9 CPU-s per GiB in Chromium here; this module is written for V8's optimising compiler:
 * - the message schedule of four consecutive blocks is computed at once with SIMD, one block per lane (the
 *   schedule of a block depends only on its own 16 words, so the lanes never talk to each other); the
 *   big-endian loads and the 4×4 transpose into lanes are i8x16.shuffles;
 * - that schedule is computed for the next four blocks while the rounds of these four run, a twelfth of it
 *   after every fifth round: the rounds are one long dependency chain of scalar work, so the vector work
 *   fits in beside them nearly for free (measured: the same module with the schedule as a separate phase is
 *   ~20–30 % slower);
 * - W[t] + K[t] goes to memory, so the rounds keep only the working variables in registers and read one
 *   word per round; the 64 rounds are unrolled with the variables renamed instead of moved, and Maj reuses
 *   the previous round's a ^ b;
 * - one call hashes up to a megabyte, so the JS↔wasm boundary is crossed once per megabyte, not per block.
 * No toolchain is involved: encode.ts writes out the few opcodes the module needs.
 */

import {
  type Code,
  uleb,
  name,
  vec,
  section,
  I32,
  V128,
  get,
  set,
  i32,
  load,
  store,
  add,
  sub,
  and,
  xor,
  ltU,
  rotr,
  simd,
  vload,
  vstore,
  vsplat,
  shuffle,
  vadd,
  vshr,
  vrotr,
  xor3,
  vxor3,
} from './encode.js';

/** Byte offsets in the module's memory, shared with sha256.ts. */
export const LAYOUT = {
  /** The eight state words H0..H7, native (little-endian) i32. */
  state: 0,
  /** Where the caller puts the bytes to hash; 64-aligned. */
  data: 8192,
  /** Bytes the caller may put there per call. */
  capacity: 1 << 20,
} as const;

/**
 * Two regions, one for the four blocks being hashed and one for the next four, each with W[t] + K[t] (word
 * t of block j at +16·t + 4·j), the schedule's W[t] (+1024) and K[t] in all four lanes (+2048, from the data
 * segment), so that one pointer reaches all three.
 */
const REGIONS = [1024, 4096] as const;
const [WK_AT, W_AT, K_AT] = [0, 1024, 2048];

/** The data area plus a group of slack: the schedule of the group after a call's last one reads past it. */
const PAGES = Math.ceil((LAYOUT.data + LAYOUT.capacity + 256) / 65536);

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];

/**
 * compress(ptr, blocks): hashes `blocks` 64-byte blocks at `ptr` into the state. The first group's schedule
 * is computed on its own; then each full group of four runs its rounds with the next group's schedule
 * woven in, and a last group of one to three blocks runs its rounds plain.
 */
function compress(): Code {
  const [PTR, BLOCKS] = [0, 1];
  const VARS = [2, 3, 4, 5, 6, 7, 8, 9];
  // T1; a^b of this and the previous round; the lane's W+K pointer; the next region's schedule pointer;
  // lanes left; the current region.
  const [T1, AB, AB_PREV, P, X, LANES, CUR] = [10, 11, 12, 13, 14, 15, 16];
  const I32_LOCALS = 15;
  const W = (t: number) => 2 + I32_LOCALS + t;
  const [V15, V2, VW] = [W(16), W(17), W(18)]; // temporaries of a woven schedule step
  const body: Code = [];

  // Words 0..15 of the four blocks at ptr + offset into W(0..15): each row byte-swapped, then a 4×4
  // transpose (32-bit, then 64-bit interleaves, which V8 turns into punpck instructions) so that lane j
  // holds block j's word.
  const transpose = (offset: number) => {
    const bswap = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
    const low32 = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
    const high32 = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
    const low64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
    const high64 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
    const rows = [W(56), W(57), W(58), W(59)];
    const [lo01, hi01, lo23, hi23] = [W(60), W(61), W(62), W(63)];
    for (let q = 0; q < 4; q++) {
      rows.forEach((row, j) => {
        const words = () => vload(get(PTR), offset + 64 * j + 16 * q);
        body.push(...set(row, shuffle(words(), words(), bswap)));
      });
      const [r0, r1, r2, r3] = rows.map(get) as [Code, Code, Code, Code];
      body.push(...set(lo01, shuffle(r0, r1, low32)), ...set(hi01, shuffle(r0, r1, high32)));
      body.push(...set(lo23, shuffle(r2, r3, low32)), ...set(hi23, shuffle(r2, r3, high32)));
      body.push(...set(W(4 * q), shuffle(get(lo01), get(lo23), low64)));
      body.push(...set(W(4 * q + 1), shuffle(get(lo01), get(lo23), high64)));
      body.push(...set(W(4 * q + 2), shuffle(get(hi01), get(hi23), low64)));
      body.push(...set(W(4 * q + 3), shuffle(get(hi01), get(hi23), high64)));
    }
  };
  const sigma0v = (x: Code) => vxor3(vrotr(x, 7), vrotr(x, 18), vshr(x, 3));
  const sigma1v = (x: Code) => vxor3(vrotr(x, 17), vrotr(x, 19), vshr(x, 10));

  // 64 rounds of one block, its W + K at P + 16·t; `weave(t)` is code to put after round t.
  const rounds = (weave: (t: number) => Code) => {
    body.push(...set(AB_PREV, xor(get(VARS[1]!), get(VARS[2]!))));
    let names = [...VARS];
    let [ab, abPrev] = [AB, AB_PREV];
    for (let t = 0; t < 64; t++) {
      const [a, b, c, d, e, f, g, h] = names as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      // The three rotations side by side, not nested: fewer instructions nested, but a longer chain, and
      // the rounds are bound by their dependency chain (nested measured ~15 % slower).
      const sigma1 = xor3(rotr(get(e), 6), rotr(get(e), 11), rotr(get(e), 25));
      const ch = xor(get(g), and(get(e), xor(get(f), get(g))));
      const sigma0 = xor3(rotr(get(a), 2), rotr(get(a), 13), rotr(get(a), 22));
      // Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and b ^ c is the previous round's a ^ b.
      const maj = xor(get(b), and(get(ab), get(abPrev)));
      // h + W[t] + K[t] and d do not depend on this round's e, so they are added outside its chain:
      // e' = (d + h + WK) + (Σ1 + Ch), a' = (h + WK) + (Σ1 + Ch) + Σ0 + Maj.
      body.push(...set(h, add(get(h), load(get(P), WK_AT + 16 * t))));
      body.push(...set(T1, add(sigma1, ch)));
      body.push(...set(d, add(add(get(d), get(h)), get(T1))));
      body.push(...set(ab, xor(get(a), get(b))));
      body.push(...set(h, add(add(get(T1), get(h)), add(sigma0, maj))));
      names = [h, a, b, c, d, e, f, g];
      [ab, abPrev] = [abPrev, ab];
      body.push(...weave(t));
    }
    // 64 rounds rotate the names back to where they started. Add the block's result into the state.
    VARS.forEach((v, i) => {
      body.push(...set(v, add(get(v), load(i32(0), LAYOUT.state + 4 * i))));
      body.push(...store(i32(0), LAYOUT.state + 4 * i, get(v)));
    });
  };

  // The state into the working variables once; they carry it from block to block.
  VARS.forEach((v, i) => body.push(...set(v, load(i32(0), LAYOUT.state + 4 * i))));
  body.push(0x02, 0x40); // block $exit
  body.push(...get(BLOCKS), 0x45, 0x0d, 0); // no blocks: br_if $exit

  // The first group's schedule on its own, into region 0. W+K is stored as soon as W[t] is known, so only
  // the last 16 words are live.
  transpose(0);
  const storeWk = (t: number) =>
    body.push(...vstore(i32(0), REGIONS[0] + WK_AT + 16 * t, vadd(get(W(t)), vsplat(K[t]!))));
  for (let t = 0; t < 16; t++) storeWk(t);
  for (let t = 16; t < 64; t++) {
    body.push(
      ...set(
        W(t),
        vadd(vadd(sigma1v(get(W(t - 2))), get(W(t - 7))), vadd(sigma0v(get(W(t - 15))), get(W(t - 16)))),
      ),
    );
    storeWk(t);
  }
  body.push(...set(CUR, i32(REGIONS[0])));

  body.push(0x02, 0x40, 0x03, 0x40); // block $tail, loop $groups: the full groups
  body.push(...ltU(get(BLOCKS), i32(4)), 0x0d, 1); // fewer than four left: br_if $tail
  // The next group's words 0..15 into the other region (W and W + K); X points at it.
  body.push(...set(X, sub(i32(REGIONS[0] + REGIONS[1]), get(CUR))));
  transpose(256);
  for (let t = 0; t < 16; t++) {
    body.push(...vstore(get(X), W_AT + 16 * t, get(W(t))));
    body.push(...vstore(get(X), WK_AT + 16 * t, vadd(get(W(t)), vsplat(K[t]!))));
  }
  body.push(...set(P, get(CUR)), ...set(LANES, i32(4)));
  body.push(0x03, 0x40); // loop $lanes
  // Lane j computes W[16 + 12j + k], k = 0..11, of the next group: X moves on 12 words per lane, so the
  // offsets from X are the same in every lane, and the lane loop stays one copy of the rounds.
  rounds((t) => {
    if (t % 5 !== 4 || t >= 60) return [];
    const k = (t - 4) / 5;
    const at = (region: number, back: number) => region + 16 * (16 + k - back);
    const code: Code = [];
    code.push(...set(V15, vload(get(X), at(W_AT, 15))), ...set(V2, vload(get(X), at(W_AT, 2))));
    const w = vadd(
      vadd(sigma1v(get(V2)), vload(get(X), at(W_AT, 7))),
      vadd(sigma0v(get(V15)), vload(get(X), at(W_AT, 16))),
    );
    code.push(...set(VW, w));
    code.push(...vstore(get(X), at(W_AT, 0), get(VW)));
    code.push(...vstore(get(X), at(WK_AT, 0), vadd(get(VW), vload(get(X), at(K_AT, 0)))));
    return code;
  });
  body.push(...set(P, add(get(P), i32(4))), ...set(X, add(get(X), i32(16 * 12))));
  body.push(...set(LANES, sub(get(LANES), i32(1))));
  body.push(...get(LANES), 0x0d, 0); // br_if $lanes
  body.push(0x0b); // end $lanes
  body.push(...set(CUR, sub(i32(REGIONS[0] + REGIONS[1]), get(CUR))));
  body.push(...set(PTR, add(get(PTR), i32(256))), ...set(BLOCKS, sub(get(BLOCKS), i32(4))));
  body.push(0x0c, 0, 0x0b, 0x0b); // br $groups; end $groups; end $tail

  // One to three blocks left, their W + K already in the current region.
  body.push(...get(BLOCKS), 0x45, 0x0d, 0); // none: br_if $exit
  body.push(...set(P, get(CUR)));
  body.push(0x03, 0x40); // loop: one block per pass
  rounds(() => []);
  body.push(...set(P, add(get(P), i32(4))), ...set(BLOCKS, sub(get(BLOCKS), i32(1))));
  body.push(...get(BLOCKS), 0x0d, 0); // br_if: next block
  body.push(0x0b, 0x0b); // end loop; end $exit

  const locals = vec([
    [...uleb(I32_LOCALS), I32],
    [...uleb(64), V128],
  ]);
  const fn = [...locals, ...body, 0x0b];
  return [...uleb(fn.length), ...fn];
}

/** K[t] in all four lanes, t = 0..63, for both regions. */
function kTable(): Code {
  const row = K.flatMap((k) => vsplat(k).slice(simd(0x0c).length));
  return [...row];
}

/** The module's bytes: exports `memory` and `compress(ptr: i32, blocks: i32)`. */
export function assembleSha256(): Uint8Array<ArrayBuffer> {
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([])]])),
    ...section(3, vec([uleb(0)])),
    ...section(5, vec([[0x00, ...uleb(PAGES)]])),
    ...section(
      7,
      vec([
        [...name('memory'), 0x02, 0],
        [...name('compress'), 0x00, 0],
      ]),
    ),
    ...section(10, vec([compress()])),
    ...section(
      11,
      vec(REGIONS.map((region) => [0x00, ...i32(region + K_AT), 0x0b, ...vec(kTable().map((b) => [b]))])),
    ),
  ];
  return new Uint8Array(bytes);
}
