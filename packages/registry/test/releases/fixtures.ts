import { randomUUID } from 'node:crypto';
import type { ReleaseRecord } from '../../src/releases/types.js';

/** A release record for unit tests: unphased, scheduled in the past, no version. */
export function release(id: string, over: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    id,
    cohort_id: 'c',
    bundle_id: `bundle-${id}`,
    name: id,
    description: null,
    required: false,
    disabled: false,
    schedule_date: '2026-01-01T00:00:00.000000Z',
    phase_mode: 'numeric',
    phase_value: 1,
    phase_tags: null,
    version: null,
    version_requirement: null,
    next_release_id: null,
    inserted_at: `2026-01-01T00:00:00.00000${id.length}Z`,
    updated_at: '2026-01-01T00:00:00.000000Z',
    ...over,
  };
}

/** a → b → c … (the last is the latest release). */
export function chain(ids: string[], over: Record<string, Partial<ReleaseRecord>> = {}): ReleaseRecord[] {
  return ids.map((id, i) => release(id, { next_release_id: ids[i + 1] ?? null, ...over[id] }));
}

export const NOW = new Date('2026-06-01T00:00:00Z');
export const FUTURE = '2027-01-01T00:00:00.000000Z';

/** A device record to create, in a product and (or not) a cohort; a fresh identifier unless one is given. */
export const newDevice = (productId: string, cohortId: string | null, identifier = `d-${randomUUID()}`) => ({
  product_id: productId,
  cohort_id: cohortId,
  identifier,
  description: null,
  quarantined: false,
  tags: null,
  target: null,
});
