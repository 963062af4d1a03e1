import { hasAnyTag, isPhased, scheduleComplete } from './phase.js';
import { splitPrn } from './prn.js';
import type { DeviceRecord, OverrideRecord, ReleaseRecord } from './types.js';
import { isVersion, matches, parseRequirement, parseVersion, compareVersions } from './version.js';

/**
 * Bundle resolution for one update check, in the order of Peridio's resolution flowchart
 * (docs/release-management.md, "Resolution"):
 *
 * 1. an active bundle override of the device (latest `starts_at`) wins outright;
 * 2. else the reported release PRN, if it names a release of the device's cohort: its next release is the
 *    candidate (none → no update);
 * 3. else the reported bundle PRN, if a release of the cohort carries it: that release's next release;
 * 4. else the reported version: of the releases with both `version` and `version_requirement` whose
 *    requirement it satisfies, the one with the lowest version;
 * 5. walk forward from the candidate to the first `required` release or the latest one;
 * 6. walk back along that path past disabled releases, releases whose requirement the version does not
 *    satisfy, releases scheduled later, and releases whose phase does not admit the device;
 * 7. the result is served only when every binary of its bundle is signed (no stepping back here).
 *
 * Pure: phase claims and the signed check are callbacks, so the caller can claim atomically in its store.
 */
export interface ResolveRequest {
  release_prn?: string | undefined;
  bundle_prn?: string | undefined;
  release_version?: string | undefined;
}

export interface ResolveInput {
  org: string;
  device: Pick<DeviceRecord, 'id' | 'cohort_id' | 'quarantined' | 'tags'>;
  request: ResolveRequest;
  now: Date;
  /** Overrides the device belongs to (any time window; filtered here). */
  overrides: readonly OverrideRecord[];
  /** All releases of the device's cohort. */
  releases: readonly ReleaseRecord[];
  /** Whether every binary of the bundle is signed (and none destroyed); asked only of bundles it reaches. */
  bundleSigned(bundleId: string): boolean | Promise<boolean>;
  /**
   * Whether a numeric phase admits the device. `commit` is true when the release would be served (its bundle
   * is signed): the caller then claims a slot atomically; false → only look.
   */
  numericPhaseAdmits(release: ReleaseRecord, commit: boolean): Promise<boolean>;
}

type Via = 'release_prn' | 'bundle_prn' | 'release_version';

export type Resolution =
  | { status: 'device_quarantine' }
  | { status: 'no_update'; reason: string }
  | { status: 'update'; source: 'bundle_override'; override: OverrideRecord }
  | { status: 'update'; source: 'release'; release: ReleaseRecord; via: Via };

export function activeOverride(overrides: readonly OverrideRecord[], now: Date): OverrideRecord | undefined {
  const t = now.getTime();
  const active = overrides.filter(
    (o) => Date.parse(o.starts_at) <= t && (o.ends_at === null || t < Date.parse(o.ends_at)),
  );
  // The most recently started wins; a tie goes to the most recently created.
  active.sort(
    (a, b) => Date.parse(b.starts_at) - Date.parse(a.starts_at) || b.inserted_at.localeCompare(a.inserted_at),
  );
  return active[0];
}

interface Start {
  candidate: ReleaseRecord;
  via: Via;
}

function findStart(input: ResolveInput, byId: Map<string, ReleaseRecord>): Start | { none: string } {
  const { request, releases, org } = input;
  const rel = splitPrn(request.release_prn);
  if (rel && rel.type === 'release' && rel.org === org && byId.has(rel.id)) {
    const current = byId.get(rel.id)!;
    if (!current.next_release_id) return { none: 'the reported release is the latest release of the cohort' };
    return { candidate: byId.get(current.next_release_id)!, via: 'release_prn' };
  }
  const bun = splitPrn(request.bundle_prn);
  if (bun && bun.type === 'bundle' && bun.org === org) {
    // Several releases may carry one bundle: the most recently created one is the device's position.
    const carrying = releases
      .filter((r) => r.bundle_id === bun.id)
      .sort((a, b) => b.inserted_at.localeCompare(a.inserted_at))[0];
    if (carrying) {
      if (!carrying.next_release_id)
        return { none: 'the reported bundle is in the latest release of the cohort' };
      return { candidate: byId.get(carrying.next_release_id)!, via: 'bundle_prn' };
    }
  }
  const version = request.release_version;
  if (version === undefined || !isVersion(version))
    return { none: 'nothing reported matches a release of the cohort' };
  const v = parseVersion(version);
  const dynamic = releases
    .filter((r) => r.version !== null && r.version_requirement !== null && isVersion(r.version))
    .filter((r) => {
      try {
        return matches(v, parseRequirement(r.version_requirement!));
      } catch {
        return false;
      }
    })
    .sort((a, b) => compareVersions(parseVersion(a.version!), parseVersion(b.version!)));
  if (dynamic.length === 0)
    return { none: `no release's version_requirement is satisfied by version ${version}` };
  return { candidate: dynamic[0]!, via: 'release_version' };
}

/** Step 5: from the candidate forward to the first required release or the latest one. */
function walkForward(candidate: ReleaseRecord, byId: Map<string, ReleaseRecord>): ReleaseRecord[] {
  const path = [candidate];
  const seen = new Set([candidate.id]);
  let current = candidate;
  while (!current.required && current.next_release_id) {
    const next = byId.get(current.next_release_id);
    if (!next || seen.has(next.id)) break; // a broken or cyclic link never loops the check
    path.push(next);
    seen.add(next.id);
    current = next;
  }
  return path;
}

function meetsRequirement(release: ReleaseRecord, version: string | undefined): boolean {
  // Without a reported version there is nothing to check against.
  if (release.version_requirement === null || version === undefined) return true;
  try {
    return matches(version, release.version_requirement);
  } catch {
    return false;
  }
}

export async function resolve(input: ResolveInput): Promise<Resolution> {
  const { device, now } = input;
  if (device.quarantined) return { status: 'device_quarantine' };
  const override = activeOverride(input.overrides, now);
  if (override) {
    if (
      input.request.bundle_prn !== undefined &&
      splitPrn(input.request.bundle_prn)?.id === override.bundle_id
    ) {
      return { status: 'no_update', reason: "the device is already on its bundle override's bundle" };
    }
    if (!(await input.bundleSigned(override.bundle_id))) {
      return { status: 'no_update', reason: 'the bundle override has a binary that is not signed' };
    }
    return { status: 'update', source: 'bundle_override', override };
  }
  if (device.cohort_id === null) return { status: 'no_update', reason: 'the device is in no cohort' };
  const byId = new Map(input.releases.map((r) => [r.id, r]));
  const start = findStart(input, byId);
  if ('none' in start) return { status: 'no_update', reason: start.none };
  const path = walkForward(start.candidate, byId);
  const version = input.request.release_version;
  for (let i = path.length - 1; i >= 0; i--) {
    const release = path[i]!;
    if (release.disabled) continue;
    if (!meetsRequirement(release, version)) continue;
    if (!scheduleComplete(release, now)) continue;
    const signed = await input.bundleSigned(release.bundle_id);
    if (release.phase_mode === 'tags') {
      if (!hasAnyTag(device.tags, release.phase_tags)) continue;
    } else if (isPhased(release) && !(await input.numericPhaseAdmits(release, signed))) {
      continue;
    }
    if (!signed)
      return { status: 'no_update', reason: `release ${release.id} has a binary that is not signed` };
    return { status: 'update', source: 'release', release, via: start.via };
  }
  return { status: 'no_update', reason: 'no release on the path is available to the device' };
}
