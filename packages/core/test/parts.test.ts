import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import {
  DEFAULT_PART_SIZE,
  MAX_PART_SIZE,
  MAX_PARTS,
  MIN_PART_SIZE,
  planParts,
  type PartPlan,
} from '../src/parts.js';

const MIB = 1024 * 1024;

/** Invariants every plan must hold, whatever the size. */
function expectConsistent(plan: PartPlan): void {
  expect(plan.parts.length).toBeGreaterThanOrEqual(1);
  expect(plan.parts.length).toBeLessThanOrEqual(MAX_PARTS);
  let offset = 0;
  plan.parts.forEach((part, i) => {
    expect(part.index).toBe(i + 1);
    expect(part.offset).toBe(offset);
    if (i < plan.parts.length - 1) expect(part.size).toBe(plan.partSize);
    else expect(part.size).toBeLessThanOrEqual(plan.partSize);
    offset += part.size;
  });
  expect(offset).toBe(plan.fileSize);
}

function expectInputError(fn: () => unknown, input: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  expect((caught as InputError).input).toBe(input);
}

describe('planParts', () => {
  it('plans a 0-byte file as one empty part', () => {
    const plan = planParts(0);
    expect(plan.parts).toEqual([{ index: 1, offset: 0, size: 0 }]);
    expect(plan.partSize).toBe(DEFAULT_PART_SIZE);
  });

  it('plans a 1-byte file as one 1-byte part', () => {
    expect(planParts(1).parts).toEqual([{ index: 1, offset: 0, size: 1 }]);
  });

  it('plans exactly N × partSize as N full parts', () => {
    const plan = planParts(3 * MIN_PART_SIZE, { partSize: MIN_PART_SIZE });
    expect(plan.parts).toHaveLength(3);
    expect(plan.parts.map((p) => p.size)).toEqual([MIN_PART_SIZE, MIN_PART_SIZE, MIN_PART_SIZE]);
    expectConsistent(plan);
  });

  it('plans N × partSize + 1 with a 1-byte last part', () => {
    const plan = planParts(3 * MIN_PART_SIZE + 1, { partSize: MIN_PART_SIZE });
    expect(plan.parts).toHaveLength(4);
    expect(plan.parts[3]).toEqual({ index: 4, offset: 3 * MIN_PART_SIZE, size: 1 });
    expectConsistent(plan);
  });

  it('plans 12,000,000 bytes at 5 MiB as two full parts and a short last one', () => {
    const plan = planParts(12_000_000, { partSize: MIN_PART_SIZE });
    expect(plan.parts.map((p) => [p.offset, p.size])).toEqual([
      [0, 5_242_880],
      [5_242_880, 5_242_880],
      [10_485_760, 1_514_240],
    ]);
  });

  it('keeps the default part size while 10,000 parts suffice', () => {
    const plan = planParts(MAX_PARTS * DEFAULT_PART_SIZE);
    expect(plan.partSize).toBe(DEFAULT_PART_SIZE);
    expect(plan.parts).toHaveLength(MAX_PARTS);
  });

  it('grows the part size to a whole MiB when the file needs more than 10,000 parts', () => {
    const size = MAX_PARTS * DEFAULT_PART_SIZE + 1;
    const plan = planParts(size);
    expect(plan.partSize).toBeGreaterThan(DEFAULT_PART_SIZE);
    expect(plan.partSize % MIB).toBe(0);
    expect(plan.partSize).toBe(DEFAULT_PART_SIZE + MIB);
    expectConsistent(plan);
  });

  it('grows an explicitly small part size too', () => {
    const size = 200 * 1024 * MIB + 12345; // 200 GiB: 5 MiB parts would need 40,960
    const plan = planParts(size, { partSize: MIN_PART_SIZE });
    expect(plan.parts.length).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize).toBe(21 * MIB);
    expectConsistent(plan);
  });

  it('accepts the largest total: 10,000 parts of 5 GiB', () => {
    const plan = planParts(MAX_PARTS * MAX_PART_SIZE);
    expect(plan.partSize).toBe(MAX_PART_SIZE);
    expect(plan.parts).toHaveLength(MAX_PARTS);
    expectConsistent(plan);
  });

  it('refuses a file larger than 10,000 × 5 GiB as input "file"', () => {
    expectInputError(() => planParts(MAX_PARTS * MAX_PART_SIZE + 1), 'file');
  });

  it.each([
    ['too small', MIN_PART_SIZE - 1],
    ['too large', MAX_PART_SIZE + 1],
    ['not an integer', MIN_PART_SIZE + 0.5],
    ['NaN', Number.NaN],
    ['zero', 0],
    ['negative', -MIN_PART_SIZE],
  ])('refuses a part size that is %s as input "part-size"', (_name, partSize) => {
    expectInputError(() => planParts(100, { partSize }), 'part-size');
  });

  it('accepts the limits themselves', () => {
    expect(planParts(10, { partSize: MIN_PART_SIZE }).partSize).toBe(MIN_PART_SIZE);
    expect(planParts(10, { partSize: MAX_PART_SIZE }).partSize).toBe(MAX_PART_SIZE);
  });

  it('refuses negative or fractional file sizes', () => {
    expectInputError(() => planParts(-1), 'file');
    expectInputError(() => planParts(1.5), 'file');
  });
});
