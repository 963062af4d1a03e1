import { InputError } from './errors.js';

/** S3 multipart limits, which Peridio's binary parts inherit (spec `binary-part-size`). */
export const MIN_PART_SIZE = 5_242_880;
export const MAX_PART_SIZE = 5_368_709_120;
export const MAX_PARTS = 10_000;
/** The largest binary the part limits allow (spec `binary-size`: 53_687_091_200_000). */
export const MAX_BINARY_SIZE = MAX_PARTS * MAX_PART_SIZE;
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;

const MIB = 1024 * 1024;

export interface PlannedPart {
  /** 1-based, as the API numbers parts. */
  index: number;
  offset: number;
  size: number;
}

export interface PartPlan {
  fileSize: number;
  partSize: number;
  parts: PlannedPart[];
}

/**
 * Splits a file into upload parts. A part size that would need more than MAX_PARTS parts is grown
 * rather than refused, because the user asked for a part size, not for a failure on big files.
 */
export function planParts(fileSize: number, options: { partSize?: number } = {}): PartPlan {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) {
    throw new InputError('file', `size must be a non-negative integer, got ${fileSize}`);
  }
  const requested = options.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isSafeInteger(requested) || requested < MIN_PART_SIZE || requested > MAX_PART_SIZE) {
    throw new InputError(
      'part-size',
      `must be an integer between ${MIN_PART_SIZE} (5 MiB) and ${MAX_PART_SIZE} (5 GiB) bytes, got ${requested}`,
    );
  }
  if (fileSize > MAX_PARTS * MAX_PART_SIZE) {
    throw new InputError(
      'file',
      `is ${fileSize} bytes; the registry accepts at most ${MAX_PARTS} parts of ${MAX_PART_SIZE} bytes`,
    );
  }
  // MAX_PART_SIZE is a whole number of MiB, so rounding up to a MiB never exceeds it here.
  const minimumForCount = Math.ceil(fileSize / MAX_PARTS / MIB) * MIB;
  const partSize = Math.max(requested, minimumForCount);

  // S3 multipart needs at least one part, so an empty file is one empty part.
  const count = Math.max(1, Math.ceil(fileSize / partSize));
  const parts: PlannedPart[] = [];
  for (let i = 0; i < count; i++) {
    const offset = i * partSize;
    parts.push({ index: i + 1, offset, size: Math.min(partSize, fileSize - offset) });
  }
  return { fileSize, partSize, parts };
}
