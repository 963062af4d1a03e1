/**
 * Releases a bundle to a cohort. Safe to re-run: a release of this bundle in this cohort is returned as
 * it is. Two jobs racing converge on the older release (the younger deletes its own, which nobody can
 * have been offered anything different by: it carries the same bundle).
 */
import { ApiError, InputError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import { searchQuery } from '../../client/search.js';
import type { PeridioClient } from '../../client/admin-client.js';
import type { Release } from '../../release-types.js';
import { requirePrn } from '../../prn.js';
import { strictVersion } from '../../version.js';
import { iteratePages } from '../../paging.js';
import { orUndefined, resolveCohort } from './lookup.js';
import { describePhase, stillRollingOut } from './phase.js';

export interface CreateReleaseOptions {
  api: PeridioClient;
  bundlePrn: string;
  cohort: string;
  product?: string;
  name: string;
  /** Strict SemVer; a leading `v` is stripped. */
  version: string;
  /** Default `< <version>`: devices below this version may enter; one on it or newer never re-enters. */
  versionRequirement?: string;
  required?: boolean;
  disabled?: boolean;
  phase?: { value: number } | { tags: string[] };
  scheduleDate?: string;
  description?: string;
  /** Place the release before this release of the cohort instead of as its new latest release. */
  nextReleasePrn?: string;
  /** Place it after this release: alone only after the latest; with `nextReleasePrn`, between the two. */
  previousReleasePrn?: string;
  completePrevious?: boolean;
  logger?: Logger;
  now?: () => Date;
}

export interface CreateReleaseResult {
  release: Release;
  cohortPrn: string;
  productPrn: string;
  created: boolean;
  completedPrevious?: Release;
}

export function defaultVersionRequirement(version: string): string {
  return `< ${version}`;
}

async function releasesOf(api: PeridioClient, cohortPrn: string): Promise<Release[]> {
  const out: Release[] = [];
  const params = { search: searchQuery({ cohort_prn: cohortPrn }), order: 'asc' as const, limit: 100 };
  for await (const r of iteratePages((p) => api.releases.listReleases(p), params)) {
    if (r.cohort_prn === cohortPrn) out.push(r);
  }
  return out;
}

/** The placement PRNs, checked for shape before anything is read. */
function placementOf(options: CreateReleaseOptions): { next?: string; previous?: string } {
  const next =
    options.nextReleasePrn === undefined
      ? undefined
      : requirePrn(options.nextReleasePrn, 'release', 'next-release-prn');
  const previous =
    options.previousReleasePrn === undefined
      ? undefined
      : requirePrn(options.previousReleasePrn, 'release', 'previous-release-prn');
  if (next !== undefined && options.completePrevious) {
    throw new InputError(
      'complete-previous',
      'applies to a new latest release only; with next-release-prn the release goes before an existing one',
    );
  }
  return { next, previous };
}

/** The graph rules stay the API's; this only names a release that is not in the cohort before asking. */
function checkPlacement(
  placement: { next?: string; previous?: string },
  releases: Release[],
  cohortName: string,
): void {
  for (const [prn, input] of [
    [placement.next, 'next-release-prn'],
    [placement.previous, 'previous-release-prn'],
  ] as const) {
    if (prn !== undefined && !releases.some((r) => r.prn === prn)) {
      throw new InputError(input, `${prn} is not a release of cohort ${cohortName}`);
    }
  }
}

export async function createRelease(options: CreateReleaseOptions): Promise<CreateReleaseResult> {
  const { api } = options;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const version = strictVersion(options.version);
  const placement = placementOf(options);
  const requirement = options.versionRequirement ?? defaultVersionRequirement(version);
  const bundle = await orUndefined(api.releases.getBundle(options.bundlePrn));
  if (!bundle) {
    throw new InputError(
      'bundle-prn',
      `no bundle ${options.bundlePrn} is visible to this API key; pass create-bundle's bundle-prn output`,
    );
  }
  const { cohort, product } = await resolveCohort(api, {
    cohort: options.cohort,
    product: options.product,
    logger,
  });
  const result = (release: Release, created: boolean, completedPrevious?: Release): CreateReleaseResult => ({
    release,
    cohortPrn: cohort.prn,
    productPrn: product.prn,
    created,
    completedPrevious,
  });

  const mineIn = (list: Release[]) => list.find((r) => r.bundle_prn === bundle.prn);
  let releases = await releasesOf(api, cohort.prn);
  const existing = mineIn(releases);
  if (existing) {
    logger.info(`Found release ${existing.name} of this bundle in cohort ${cohort.name}: ${existing.prn}`);
    return result(existing, false);
  }
  const sameName = releases.find((r) => r.name === options.name);
  if (sameName) {
    throw new InputError(
      'name',
      `cohort ${cohort.name} already has a release named '${options.name}' (${sameName.prn}) with another bundle (${sameName.bundle_prn}); use another name, or a new tag`,
    );
  }

  checkPlacement(placement, releases, cohort.name);

  let completedPrevious: Release | undefined;
  const latest = releases.find((r) => r.next_release_prn === null);
  // Only a new latest release must follow a complete one; one placed before another need not.
  const rolling = placement.next === undefined && latest && stillRollingOut(latest, now());
  if (latest && rolling) {
    if (!options.completePrevious) {
      throw new InputError(
        'complete-previous',
        `cohort ${cohort.name}'s latest release '${latest.name}' (${latest.prn}) is still ${rolling}, and a new release can only follow a complete one. ` +
          `Complete it first (promote-release with phase-value: 1), or set complete-previous: true to do that here`,
      );
    }
    completedPrevious = await api.releases.updateRelease(latest.prn, {
      phase_mode: 'numeric',
      phase_value: 1,
      ...(Date.parse(latest.schedule_date) > now().getTime() ? { schedule_date: now().toISOString() } : {}),
    });
    logger.info(
      `Completed the previous release '${latest.name}' (${latest.prn}): was ${rolling}, now for every device`,
    );
  }

  const phase = options.phase ?? { value: 1 };
  let created: Release;
  try {
    created = await api.releases.createRelease({
      bundle_prn: bundle.prn,
      cohort_prn: cohort.prn,
      name: options.name,
      required: options.required ?? false,
      disabled: options.disabled ?? false,
      schedule_date: options.scheduleDate ?? now().toISOString(),
      version,
      version_requirement: requirement,
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(placement.next === undefined ? {} : { next_release_prn: placement.next }),
      ...(placement.previous === undefined ? {} : { previous_release_prn: placement.previous }),
      ...('tags' in phase
        ? { phase_mode: 'tags', phase_tags: phase.tags, phase_value: 1 }
        : { phase_mode: 'numeric', phase_value: phase.value }),
    });
  } catch (err) {
    // A racing job may have just made a phased release of this bundle: then it is ours too.
    if (err instanceof ApiError && err.status === 422) {
      const winner = mineIn(await releasesOf(api, cohort.prn));
      if (winner) return result(winner, false, completedPrevious);
    }
    throw err;
  }
  releases = await releasesOf(api, cohort.prn);
  const winner = mineIn(releases)!;
  if (winner.prn !== created.prn) {
    await api.releases.deleteRelease(created.prn);
    logger.warning(
      `another job released this bundle to ${cohort.name} at the same time: using ${winner.prn}, deleted this job's ${created.prn}`,
    );
    return result(winner, false, completedPrevious);
  }
  logger.info(
    `Created release ${created.name} (${version}, requirement '${requirement}') of bundle ${bundle.prn} in cohort ${cohort.name} at ${'tags' in phase ? `tags ${phase.tags.join(', ')}` : describePhase(phase.value)}${placement.next ? `, before ${placement.next}` : ''}: ${created.prn}`,
  );
  return result(created, true, completedPrevious);
}
