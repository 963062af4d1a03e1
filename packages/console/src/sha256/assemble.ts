/**
 * Emits, at build time, the WebAssembly module behind the console's streaming SHA-256 (FIPS 180-4). hash-wasm
 * ran at ~200 MB/s in Chromium here; this module is written for V8's optimising compiler:
 * - the message schedule of four consecutive blocks is computed at once with SIMD, one block per lane (the
 *   schedule of a block depends only on its own 16 words, so the lanes never talk to each other); the
 *   big-endian loads and the 4×4 transpose into lanes are two rounds of i8x16.shuffle;
 * - W[t] + K[t] goes to a scratch area, so the rounds keep only the eight working variables and two
 *   temporaries in registers and read one word from memory per round;
 * - the 64 rounds are fully unrolled with the variables renamed instead of moved, and Maj reuses the
 *   previous round's a ^ b;
 * - one call hashes any number of blocks, so the JS↔wasm boundary is crossed once per megabyte, not per block.
 * No toolchain is involved: the opcodes below are the few the module needs, from the WebAssembly core and
 * SIMD specifications.
 */

/** Byte offsets in the module's memory, shared with sha256.ts. */
export const LAYOUT = {
  /** The eight state words H0..H7, native (little-endian) i32. */
  state: 0,
  /** W[t] + K[t] of the current four blocks: word t of block j at wk + 16·t + 4·j. */
  wk: 64,
  /** Where the caller puts the bytes to hash; 64-aligned. */
  data: 2048,
  /** Bytes the caller may put there per call. */
  capacity: 1 << 20,
} as const;

/** The data area plus three blocks of slack: the last group of a call may read lanes past its blocks. */
const PAGES = Math.ceil((LAYOUT.data + LAYOUT.capacity + 192) / 65536);

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

type Code = number[];

const uleb = (n: number): Code => {
  const out: Code = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

const sleb = (n: number): Code => {
  const out: Code = [];
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
};

const name = (s: string): Code => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];

const I32 = 0x7f;
const V128 = 0x7b;

// Scalar instructions, as expression builders: each returns the code that leaves its value on the stack.
const get = (local: number): Code => [0x20, ...uleb(local)];
const set = (local: number, value: Code): Code => [...value, 0x21, ...uleb(local)];
const i32 = (n: number): Code => [0x41, ...sleb(n)];
const load = (address: Code, offset: number): Code => [...address, 0x28, 2, ...uleb(offset)];
const store = (address: Code, offset: number, value: Code): Code => [
  ...address,
  ...value,
  0x36,
  2,
  ...uleb(offset),
];
const op =
  (code: number) =>
  (a: Code, b: Code): Code => [...a, ...b, code];
const add = op(0x6a);
const sub = op(0x6b);
const and = op(0x71);
const xor = op(0x73);
const ltU = op(0x49);
const rotr = (a: Code, n: number): Code => [...a, ...i32(n), 0x78];
const select = (a: Code, b: Code, condition: Code): Code => [...a, ...b, ...condition, 0x1b];

// SIMD instructions (prefix 0xfd, then the opcode as a LEB128).
const simd = (code: number): Code => [0xfd, ...uleb(code)];
const vload = (address: Code, offset: number): Code => [...address, ...simd(0x00), 4, ...uleb(offset)];
const vstore = (address: Code, offset: number, value: Code): Code => [
  ...address,
  ...value,
  ...simd(0x0b),
  4,
  ...uleb(offset),
];
const vsplat = (n: number): Code => {
  const bytes: Code = [];
  for (let lane = 0; lane < 4; lane++) bytes.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
  return [...simd(0x0c), ...bytes];
};
const shuffle = (a: Code, b: Code, lanes: number[]): Code => [...a, ...b, ...simd(0x0d), ...lanes];
const vop =
  (code: number) =>
  (a: Code, b: Code): Code => [...a, ...b, ...simd(code)];
const vxor = vop(0x51);
const vor = vop(0x50);
const vadd = vop(0xae);
const vshl = (a: Code, n: number): Code => [...a, ...i32(n), ...simd(0xab)];
const vshr = (a: Code, n: number): Code => [...a, ...i32(n), ...simd(0xad)];
const vrotr = (a: Code, n: number): Code => vor(vshr(a, n), vshl(a, 32 - n));

const xor3 = (a: Code, b: Code, c: Code): Code => xor(xor(a, b), c);
const vxor3 = (a: Code, b: Code, c: Code): Code => vxor(vxor(a, b), c);

/**
 * compress(ptr, blocks): hashes `blocks` 64-byte blocks at `ptr` into the state. Locals: 0 ptr, 1 blocks,
 * 2..9 the working variables, 10 t1, 11 and 12 a^b of this and the previous round, 13 the lane's wk pointer,
 * 14 the lanes left in this group, then 64 v128 for the schedule.
 */
function compress(): Code {
  const [PTR, BLOCKS] = [0, 1];
  const VARS = [2, 3, 4, 5, 6, 7, 8, 9];
  const [T1, AB, AB_PREV, WK, LANES] = [10, 11, 12, 13, 14];
  const W = (t: number) => 15 + t;
  const body: Code = [];

  // The state into the working variables once; they carry it from block to block.
  VARS.forEach((v, i) => body.push(...set(v, load(i32(0), LAYOUT.state + 4 * i))));

  body.push(0x02, 0x40, 0x03, 0x40); // block, loop: one group of up to four blocks per pass
  body.push(...get(BLOCKS), 0x45, 0x0d, 1); // i32.eqz, br_if to the block's end

  // Words 4q..4q+3 of the four blocks: each row byte-swapped, then a 4×4 transpose (32-bit, then 64-bit
  // interleaves, which V8 turns into punpck instructions) so that lane j holds block j's word.
  const bswap = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
  const low32 = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
  const high32 = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
  const low64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const high64 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  // Temporaries: W(56..63) are free until t = 56.
  const rows = [W(56), W(57), W(58), W(59)];
  const [lo01, hi01, lo23, hi23] = [W(60), W(61), W(62), W(63)];
  for (let q = 0; q < 4; q++) {
    rows.forEach((row, j) => {
      const words = () => vload(get(PTR), 64 * j + 16 * q);
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
  // W[t] + K[t] is stored as soon as W[t] is known, so only the last 16 words are live at any time.
  const storeWk = (t: number) =>
    body.push(...vstore(i32(0), LAYOUT.wk + 16 * t, vadd(get(W(t)), vsplat(K[t]!))));
  for (let t = 0; t < 16; t++) storeWk(t);
  for (let t = 16; t < 64; t++) {
    const s0 = vxor3(vrotr(get(W(t - 15)), 7), vrotr(get(W(t - 15)), 18), vshr(get(W(t - 15)), 3));
    const s1 = vxor3(vrotr(get(W(t - 2)), 17), vrotr(get(W(t - 2)), 19), vshr(get(W(t - 2)), 10));
    body.push(...set(W(t), vadd(vadd(s1, get(W(t - 7))), vadd(s0, get(W(t - 16))))));
    storeWk(t);
  }

  // lanes = min(blocks, 4); then the blocks of this group one by one. The lane loop is not unrolled: four
  // copies of the rounds measured slower (the 64 rounds alone about fill the CPU's decoded-op cache).
  body.push(...set(LANES, select(get(BLOCKS), i32(4), ltU(get(BLOCKS), i32(4)))));
  body.push(...set(BLOCKS, sub(get(BLOCKS), get(LANES))));
  body.push(...set(WK, i32(LAYOUT.wk)));
  body.push(0x03, 0x40); // loop over the lanes
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
    // The three rotations side by side, not nested: fewer instructions nested, but a longer chain, and the
    // rounds are bound by their dependency chain (nested measured ~15 % slower).
    const sigma1 = xor3(rotr(get(e), 6), rotr(get(e), 11), rotr(get(e), 25));
    const ch = xor(get(g), and(get(e), xor(get(f), get(g))));
    const sigma0 = xor3(rotr(get(a), 2), rotr(get(a), 13), rotr(get(a), 22));
    // Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and b ^ c is the previous round's a ^ b.
    const maj = xor(get(b), and(get(ab), get(abPrev)));
    // h + W[t] + K[t] and d do not depend on this round's e, so they are added outside its chain:
    // e' = (d + h + WK) + (Σ1 + Ch), a' = (h + WK) + (Σ1 + Ch) + Σ0 + Maj.
    body.push(...set(h, add(get(h), load(get(WK), 16 * t))));
    body.push(...set(T1, add(sigma1, ch)));
    body.push(...set(d, add(add(get(d), get(h)), get(T1))));
    body.push(...set(ab, xor(get(a), get(b))));
    body.push(...set(h, add(add(get(T1), get(h)), add(sigma0, maj))));
    names = [h, a, b, c, d, e, f, g];
    [ab, abPrev] = [abPrev, ab];
  }
  // 64 rounds rotate the names back to where they started. Add the block's result into the state.
  VARS.forEach((v, i) => {
    body.push(...set(v, add(get(v), load(i32(0), LAYOUT.state + 4 * i))));
    body.push(...store(i32(0), LAYOUT.state + 4 * i, get(v)));
  });
  body.push(...set(WK, add(get(WK), i32(4))));
  body.push(...set(LANES, sub(get(LANES), i32(1))));
  body.push(...get(LANES), 0x0d, 0); // br_if: next lane
  body.push(0x0b); // end of the lane loop

  body.push(...set(PTR, add(get(PTR), i32(256))));
  body.push(0x0c, 0, 0x0b, 0x0b); // br to the group loop; end loop; end block

  const locals = vec([
    [...uleb(13), I32],
    [...uleb(64), V128],
  ]);
  const fn = [...locals, ...body, 0x0b];
  return [...uleb(fn.length), ...fn];
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
  ];
  return new Uint8Array(bytes);
}
