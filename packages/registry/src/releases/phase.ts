import type { ReleaseRecord } from './types.js';

/**
 * Numeric phasing (spec `release-phase-value`): a value in [0, 1] is a share of the cohort's devices, an
 * integer in [2, 1e9] a device count, and exactly 1 means 100% (not phased, and final once set).
 */
const MAX_PHASE_VALUE = 1_000_000_000;

/** Why a phase_value is not allowed, or undefined when it is. */
export function phaseValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
  if (value < 0) return 'must be at least 0';
  if (value > MAX_PHASE_VALUE) return `must be at most ${MAX_PHASE_VALUE}`;
  if (value > 1 && (!Number.isInteger(value) || value < 2)) {
    return 'must be a share from 0 to 1 (e.g. 0.2 for 20%) or a whole device count from 2 to 1000000000';
  }
  return undefined;
}

export type PhaseLimit =
  { kind: 'all' } | { kind: 'share'; share: number } | { kind: 'count'; count: number };

export function phaseLimit(release: Pick<ReleaseRecord, 'phase_value'>): PhaseLimit {
  const v = release.phase_value;
  if (v === 1) return { kind: 'all' };
  if (v < 1) return { kind: 'share', share: v };
  return { kind: 'count', count: v };
}

/**
 * How many devices may claim a release. "Claimed by fewer than phase_value × the cohort's devices" admits
 * ceil(share × devices); the product is rounded to 1e-9 first so 0.1 × 30 is 3, not 3.0000000000000004.
 */
export function claimLimit(limit: PhaseLimit, cohortDevices: number): number {
  if (limit.kind === 'all') return Number.POSITIVE_INFINITY;
  if (limit.kind === 'count') return limit.count;
  return Math.ceil(Math.round(limit.share * cohortDevices * 1e9) / 1e9);
}

/** The spec's read-only `phase_type`: a count is "static", a share (including 1 = 100%) is "percent". */
export function phaseType(release: Pick<ReleaseRecord, 'phase_value'>): 'static' | 'percent' {
  return release.phase_value > 1 ? 'static' : 'percent';
}

export function isPhased(release: Pick<ReleaseRecord, 'phase_mode' | 'phase_value'>): boolean {
  return release.phase_mode === 'tags' || release.phase_value !== 1;
}

export function scheduleComplete(release: Pick<ReleaseRecord, 'schedule_date'>, now: Date): boolean {
  return Date.parse(release.schedule_date) <= now.getTime();
}

export function hasAnyTag(
  deviceTags: readonly string[] | null,
  phaseTags: readonly string[] | null,
): boolean {
  if (!deviceTags || !phaseTags) return false;
  return phaseTags.some((t) => deviceTags.includes(t));
}
