/** Peridio's numeric phases: 0–1 is a share of the cohort's devices, a whole 2 or more a device count. */
import { InputError } from '../../errors.js';
import type { Release } from '../../release-types.js';

export const MAX_PHASE_VALUE = 1_000_000_000;

export function parsePhaseValue(text: string, input = 'phase-value'): number {
  const value = Number(text.trim().replace(/%$/, ''));
  const isPercent = text.trim().endsWith('%');
  const v = isPercent ? value / 100 : value;
  if (
    text.trim() === '' ||
    !Number.isFinite(v) ||
    v < 0 ||
    (v > 1 && (!Number.isInteger(v) || v < 2)) ||
    v > MAX_PHASE_VALUE
  ) {
    throw new InputError(
      input,
      `'${text}' is not a phase: give a share from 0 to 1 (0.1 or 10% is a tenth of the cohort's devices, 1 everyone) or a whole device count from 2 to ${MAX_PHASE_VALUE}`,
    );
  }
  return v;
}

/** Phased (not yet for everyone) or scheduled for later: the graph refuses a new latest release then. */
export function stillRollingOut(r: Release, now = new Date()): string | undefined {
  if (r.phase_mode === 'tags') return `phased to the tags ${r.phase_tags.join(', ')}`;
  if (r.phase_value !== 1) return `phased at ${describePhase(r.phase_value)}`;
  if (Date.parse(r.schedule_date) > now.getTime()) return `scheduled for ${r.schedule_date}`;
  return undefined;
}

export function describePhase(v: number): string {
  if (v === 1) return 'phase-value 1 (every device)';
  if (v < 1) return `phase-value ${v} (${Math.round(v * 1000) / 10}% of the cohort)`;
  return `phase-value ${v} (${v} devices)`;
}

export function isComplete(r: Release): boolean {
  return r.phase_mode === 'numeric' && r.phase_value === 1;
}
