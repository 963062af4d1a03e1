/**
 * Which parts the server already holds. Peridio's CLI skips any part listed `valid` by index alone, so
 * a part from an earlier run with another part size or other content would
 * then end up in the binary and the server's hashing step would fail minutes later. So a part counts as
 * present only when index, size and hash all match the local digest.
 */
import type { PartDigest } from '../hash.js';
import type { BinaryPart } from '../types.js';

export interface PartComparison {
  /** Planned parts the server holds `valid` with the same size and hash. */
  present: PartDigest[];
  /** Planned parts missing, not `valid`, or `valid` with another size or hash. */
  missing: PartDigest[];
  /** Indexes the server lists beyond the plan (left over from a run with a smaller part size). */
  extra: number[];
}

function matchesServerPart(part: PartDigest, listed: BinaryPart | undefined): boolean {
  return (
    listed !== undefined &&
    listed.state === 'valid' &&
    listed.index === part.index &&
    listed.size === part.size &&
    typeof listed.hash === 'string' &&
    listed.hash.toLowerCase() === part.sha256Hex.toLowerCase()
  );
}

export function compareParts(planned: readonly PartDigest[], listed: readonly BinaryPart[]): PartComparison {
  const byIndex = new Map<number, BinaryPart[]>();
  for (const part of listed) {
    const same = byIndex.get(part.index);
    if (same) same.push(part);
    else byIndex.set(part.index, [part]);
  }
  const present: PartDigest[] = [];
  const missing: PartDigest[] = [];
  for (const part of planned) {
    // Two records for one index should not happen; trust it only if every record matches.
    const records = byIndex.get(part.index) ?? [];
    if (records.length > 0 && records.every((record) => matchesServerPart(part, record))) present.push(part);
    else missing.push(part);
  }
  const plannedIndexes = new Set(planned.map((part) => part.index));
  const extra = [...byIndex.keys()].filter((index) => !plannedIndexes.has(index)).sort((a, b) => a - b);
  return { present, missing, extra };
}

/**
 * The part size an earlier upload used, when the server's parts show one (all but the last the same
 * size): the caller can plan with it and reuse those parts instead of starting over.
 */
export function serverPartSize(listed: readonly BinaryPart[]): number | undefined {
  const sorted = [...listed].sort((a, b) => a.index - b.index);
  if (sorted.length < 2) return undefined;
  const size = sorted[0]!.size;
  const uniform = sorted.slice(0, -1).every((part, i) => part.index === i + 1 && part.size === size);
  return uniform && size > 0 && sorted.at(-1)!.size <= size ? size : undefined;
}

/** Why the server's record of a part does not count, for error messages: `2 (missing), 3 (invalid_hash)`. */
export function describeMissing(
  missing: readonly PartDigest[],
  listed: readonly BinaryPart[],
  max = 20,
): string {
  const reasons = missing.slice(0, max).map((part) => {
    const record = listed.find((candidate) => candidate.index === part.index);
    if (!record) return `${part.index} (missing)`;
    if (record.state !== 'valid') return `${part.index} (${record.state})`;
    if (record.size !== part.size) return `${part.index} (size ${record.size}, expected ${part.size})`;
    return `${part.index} (another hash)`;
  });
  return reasons.join(', ') + (missing.length > max ? ` and ${missing.length - max} more` : '');
}

/** `[1, 2, 3, 5, 8, 9]` → `1-3, 5, 8-9`; long lists are cut so a message stays readable. */
export function formatIndexes(indexes: readonly number[], max = 20): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  if (ranges.length <= max) return ranges.join(', ');
  return `${ranges.slice(0, max).join(', ')} and ${ranges.length - max} more ranges`;
}
