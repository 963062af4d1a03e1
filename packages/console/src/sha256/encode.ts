/**
 * The few WebAssembly instructions and module sections assemble.ts needs, as byte builders (from the
 * WebAssembly core and SIMD specifications). Each instruction builder returns the code that leaves its
 * value on the stack, so expressions nest as they read.
 */

export type Code = number[];

export const uleb = (n: number): Code => {
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

export const name = (s: string): Code => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
export const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];

export const I32 = 0x7f;
export const V128 = 0x7b;

// Scalar instructions, as expression builders: each returns the code that leaves its value on the stack.
export const get = (local: number): Code => [0x20, ...uleb(local)];
export const set = (local: number, value: Code): Code => [...value, 0x21, ...uleb(local)];
export const i32 = (n: number): Code => [0x41, ...sleb(n)];
export const load = (address: Code, offset: number): Code => [...address, 0x28, 2, ...uleb(offset)];
export const store = (address: Code, offset: number, value: Code): Code => [
  ...address,
  ...value,
  0x36,
  2,
  ...uleb(offset),
];
export const op =
  (code: number) =>
  (a: Code, b: Code): Code => [...a, ...b, code];
export const add = op(0x6a);
export const sub = op(0x6b);
export const and = op(0x71);
export const xor = op(0x73);
export const ltU = op(0x49);
export const rotr = (a: Code, n: number): Code => [...a, ...i32(n), 0x78];

// SIMD instructions (prefix 0xfd, then the opcode as a LEB128).
export const simd = (code: number): Code => [0xfd, ...uleb(code)];
export const vload = (address: Code, offset: number): Code => [...address, ...simd(0x00), 4, ...uleb(offset)];
export const vstore = (address: Code, offset: number, value: Code): Code => [
  ...address,
  ...value,
  ...simd(0x0b),
  4,
  ...uleb(offset),
];
export const vsplat = (n: number): Code => {
  const bytes: Code = [];
  for (let lane = 0; lane < 4; lane++) bytes.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
  return [...simd(0x0c), ...bytes];
};
export const shuffle = (a: Code, b: Code, lanes: number[]): Code => [...a, ...b, ...simd(0x0d), ...lanes];
export const vop =
  (code: number) =>
  (a: Code, b: Code): Code => [...a, ...b, ...simd(code)];
const vxor = vop(0x51);
const vor = vop(0x50);
export const vadd = vop(0xae);
const vshl = (a: Code, n: number): Code => [...a, ...i32(n), ...simd(0xab)];
export const vshr = (a: Code, n: number): Code => [...a, ...i32(n), ...simd(0xad)];
export const vrotr = (a: Code, n: number): Code => vor(vshr(a, n), vshl(a, 32 - n));

export const xor3 = (a: Code, b: Code, c: Code): Code => xor(xor(a, b), c);
export const vxor3 = (a: Code, b: Code, c: Code): Code => vxor(vxor(a, b), c);
