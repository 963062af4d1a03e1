/**
 * Widens a release's rollout: a higher phase-value, more phase tags, or enabling it. Never narrows one
 * (devices that were offered it would be left half-way) and never re-phases a completed one.
 */
import { InputError } from '../../errors.js';
import { requirePrn } from '../../prn.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { PeridioClient } from '../../client/admin-client.js';
import type { Release } from '../../release-types.js';
import type { UpdateReleaseBody } from '../../client/release-client.js';
import { orUndefined } from './lookup.js';
import { describePhase, isComplete } from './phase.js';

export interface PromoteReleaseOptions {
  api: PeridioClient;
  releasePrn: string;
  phaseValue?: number;
  phaseTags?: string[];
  enable?: boolean;
  logger?: Logger;
}

export interface PromoteReleaseResult {
  release: Release;
  before: Release;
  changed: boolean;
}

/** What PATCH body widens `r` as asked, or an InputError saying why it would not. */
export function promotion(
  r: Release,
  o: Omit<PromoteReleaseOptions, 'api' | 'releasePrn' | 'logger'>,
): UpdateReleaseBody {
  const body: UpdateReleaseBody = {};
  if (o.phaseValue !== undefined && o.phaseTags !== undefined) {
    throw new InputError('phase-tags', 'give phase-value or phase-tags, not both');
  }
  if (o.phaseValue !== undefined) {
    const v = o.phaseValue;
    if (isComplete(r)) {
      if (v !== 1) {
        throw new InputError(
          'phase-value',
          `release ${r.name} (${r.prn}) is complete (phase-value 1, every device) and cannot be phased again; make a new release instead`,
        );
      }
    } else if (r.phase_mode === 'numeric') {
      const cur = r.phase_value;
      const sameKind = (cur < 1 && v < 1) || (cur > 1 && v > 1);
      if (v !== 1 && !sameKind) {
        throw new InputError(
          'phase-value',
          `release ${r.name} is at ${describePhase(cur)}; ${v} is a ${v < 1 ? 'share' : 'device count'}, which cannot be compared with it. Give a ${cur < 1 ? 'share above ' + cur : 'count above ' + cur}, or 1 to complete it`,
        );
      }
      if (v !== 1 && v < cur) {
        throw new InputError(
          'phase-value',
          `release ${r.name} is at ${describePhase(cur)}; ${v} would lower it, and devices already offered it would be stranded. Give a value above ${cur}, or 1 to complete it`,
        );
      }
      if (v !== cur) Object.assign(body, { phase_value: v });
    } else {
      Object.assign(body, { phase_mode: 'numeric', phase_value: v });
    }
  }
  if (o.phaseTags !== undefined) {
    if (isComplete(r)) {
      throw new InputError(
        'phase-tags',
        `release ${r.name} (${r.prn}) is complete (every device); phasing it to tags would narrow it. Make a new release instead`,
      );
    }
    if (r.phase_mode === 'tags') {
      const dropped = r.phase_tags.filter((t) => !o.phaseTags!.includes(t));
      if (dropped.length) {
        throw new InputError(
          'phase-tags',
          `would drop the tags ${dropped.join(', ')} of release ${r.name}, narrowing it; list every current tag (${r.phase_tags.join(', ')}) plus the new ones`,
        );
      }
      if (o.phaseTags.length !== r.phase_tags.length) Object.assign(body, { phase_tags: o.phaseTags });
    } else {
      throw new InputError(
        'phase-tags',
        `release ${r.name} is phased numerically (${describePhase(r.phase_value)}); switching to tags could narrow it. Raise phase-value instead`,
      );
    }
  }
  if (o.enable && r.disabled) body.disabled = false;
  return body;
}

export async function promoteRelease(options: PromoteReleaseOptions): Promise<PromoteReleaseResult> {
  const logger = options.logger ?? silentLogger;
  const prn = requirePrn(options.releasePrn, 'release', 'release-prn');
  const before = await orUndefined(options.api.releases.getRelease(prn));
  if (!before) throw new InputError('release-prn', `no release ${prn} is visible to this API key`);
  if (options.phaseValue === undefined && options.phaseTags === undefined && !options.enable) {
    throw new InputError(
      'phase-value',
      'nothing to promote: give phase-value, phase-tags, or disabled: false',
    );
  }
  const body = promotion(before, options);
  if (Object.keys(body).length === 0) {
    logger.info(`Release ${before.name} (${prn}) is already at what was asked: nothing to change`);
    return { release: before, before, changed: false };
  }
  const release = await options.api.releases.updateRelease(prn, body);
  logger.info(
    `Promoted release ${release.name} (${prn}): ${before.phase_mode === 'tags' ? `tags ${before.phase_tags.join(', ')}` : describePhase(before.phase_value)} → ${release.phase_mode === 'tags' ? `tags ${release.phase_tags.join(', ')}` : describePhase(release.phase_value)}${body.disabled === false ? ', enabled' : ''}`,
  );
  return { release, before, changed: true };
}
