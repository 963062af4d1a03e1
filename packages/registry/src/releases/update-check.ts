import { fieldError, notFound } from '../http.js';
import type { ReleaseDeps } from './deps.js';
import { optionalBoolean } from './fields.js';
import { phaseLimit } from './phase.js';
import { pathId, prn, splitPrn } from './prn.js';
import { resolve, type ResolveRequest } from './resolve.js';
import type { NewEvent } from '../store/release-store.js';
import type { BundleRecord, CohortRecord, DeviceRecord, ReleaseRecord, ReportedState } from './types.js';

/**
 * `POST /devices/{device_prn}/update`: resolves (resolve.ts), claims phase slots through the store, builds
 * the manifest, records `device.*` events, and with `write: true` stores the reported triple.
 */
type Body = Record<string, unknown>;

function reportedField(input: Body, key: keyof ReportedState): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024)
    throw fieldError(key, 'is invalid: must be a non-empty string');
  return value;
}

function deviceRef(org: string, device: DeviceRecord, cohort: CohortRecord | undefined) {
  return {
    prn: prn(org, 'device', device.id),
    identifier: device.identifier,
    cohort: cohort ? { cohort_prn: prn(org, 'cohort', cohort.id), cohort_name: cohort.name } : null,
  };
}

export async function updateCheck(d: ReleaseDeps, devicePrn: string, input: Body, baseUrl: string) {
  const found = await d.store.deviceForCheck(pathId(d.org, devicePrn, 'device'));
  if (!found) throw notFound();
  const { device, overrides } = found;
  const write = optionalBoolean(input, 'write') ?? false;
  let request: ResolveRequest = {
    release_prn: reportedField(input, 'release_prn'),
    bundle_prn: reportedField(input, 'bundle_prn'),
    release_version: reportedField(input, 'release_version'),
  };
  // None given: the device's recorded state stands in (so a check right after `write: true` needs no body).
  if (
    request.release_prn === undefined &&
    request.bundle_prn === undefined &&
    request.release_version === undefined
  ) {
    request = {
      release_prn: device.reported.release_prn ?? undefined,
      bundle_prn: device.reported.bundle_prn ?? undefined,
      release_version: device.reported.release_version ?? undefined,
    };
  }
  const now = d.now();
  const catalog = d.catalog.view(found.catalogVersion);
  const cohort = device.cohort_id === null ? undefined : await catalog.getCohort(device.cohort_id);
  const ref = deviceRef(d.org, device, cohort);
  const releases = cohort ? await catalog.cohortReleases(cohort.id) : [];

  // Bundles and binaries are read as resolution reaches them: a check typically looks at one or two of the
  // cohort's releases, and reading every release's bundle up front was most of its cost.
  const bundleSigned = async (id: string) => {
    const bundle = await catalog.getBundle(id);
    if (!bundle) return false;
    for (const b of bundle.binaries)
      if ((await catalog.binary(b.binary_id))?.state !== 'signed') return false;
    return true;
  };
  const claimedEvent = (release: ReleaseRecord): NewEvent => ({
    type: 'device',
    subtype: 'claimed_release',
    resource_prn: ref.prn,
    actor_prn: ref.prn,
    data: { device: ref, release: { prn: prn(d.org, 'release', release.id), version: release.version } },
  });

  const resolution = await resolve({
    org: d.org,
    device,
    request,
    now,
    overrides,
    releases,
    bundleSigned,
    async numericPhaseAdmits(release, commit) {
      const limit = phaseLimit(release);
      // A look first: once a phase is full, most checks are of devices it does not admit, and a claim is a
      // durable write. A refusal now is what the claim would have answered at this instant.
      const admits = await d.store.wouldAdmit(release, device.id, limit);
      if (!admits || !commit) return admits;
      return (await d.store.claimPhaseSlot(release, device.id, limit, () => claimedEvent(release))).admitted;
    },
  });

  let body;
  let targetRelease: ReleaseRecord | undefined;
  let targetBundle: BundleRecord | undefined;
  if (resolution.status === 'update') {
    targetBundle = (await catalog.getBundle(
      resolution.source === 'release' ? resolution.release.bundle_id : resolution.override.bundle_id,
    ))!;
    targetRelease = resolution.source === 'release' ? resolution.release : undefined;
    const manifest = [];
    for (const entry of targetBundle.binaries) {
      const b = (await catalog.binary(entry.binary_id))!;
      manifest.push({
        artifact_prn: prn(d.org, 'artifact', b.artifact_id),
        artifact_version: prn(d.org, 'artifact_version', b.artifact_version_id),
        binary_prn: prn(d.org, 'binary', b.id),
        custom_metadata: entry.custom_metadata,
        hash: b.hash,
        signatures: b.signatures.map((s) => ({
          signature: s.signature,
          signing_key_prn: prn(d.org, 'signing_key', s.signing_key_id),
          keyid: s.keyid,
          public_value: s.public_value,
        })),
        size: b.size,
        target: b.target,
        url: await d.binaries.downloadUrl(baseUrl, b),
      });
    }
    body = {
      status: 'update',
      source_type: resolution.source,
      source_prn:
        resolution.source === 'release'
          ? prn(d.org, 'release', resolution.release.id)
          : prn(d.org, 'bundle_override', resolution.override.id),
      bundle_prn: prn(d.org, 'bundle', targetBundle.id),
      manifest,
    };
  } else {
    if (resolution.status === 'no_update')
      d.logger.debug(`update check device=${ref.prn}: no_update (${resolution.reason})`);
    body = { status: resolution.status, source_type: null, source_prn: null, bundle_prn: null, manifest: [] };
  }

  await d.events.append({
    type: 'device',
    subtype: 'checked_for_release',
    resource_prn: ref.prn,
    actor_prn: ref.prn,
    data: {
      device: ref,
      release: targetRelease
        ? { prn: prn(d.org, 'release', targetRelease.id), version: targetRelease.version }
        : null,
      bundle: targetBundle ? { prn: prn(d.org, 'bundle', targetBundle.id), name: targetBundle.name } : null,
    },
  });

  if (write) await recordReported(d, device, ref, request, releases);
  return body;
}

/** `write: true`: the reported triple, all at once; a known release fills in its bundle and version. */
async function recordReported(
  d: ReleaseDeps,
  device: DeviceRecord,
  ref: ReturnType<typeof deviceRef>,
  request: ResolveRequest,
  releases: readonly ReleaseRecord[],
) {
  const rel = splitPrn(request.release_prn);
  const known =
    rel && rel.type === 'release' && rel.org === d.org
      ? (releases.find((r) => r.id === rel.id) ?? (await d.store.getRelease(rel.id)))
      : undefined;
  const reported: ReportedState = {
    release_prn: request.release_prn ?? null,
    bundle_prn: request.bundle_prn ?? (known ? prn(d.org, 'bundle', known.bundle_id) : null),
    release_version: request.release_version ?? known?.version ?? null,
  };
  const bundle = splitPrn(reported.bundle_prn);
  const bundleKnown =
    !!bundle && bundle.type === 'bundle' && bundle.org === d.org && !!(await d.store.getBundle(bundle.id));
  await d.store.reportDeviceState(device.id, reported, (previous) => {
    if (previous.release_prn === reported.release_prn && previous.bundle_prn === reported.bundle_prn)
      return undefined;
    return {
      type: 'device',
      subtype: 'release_changed',
      resource_prn: ref.prn,
      actor_prn: ref.prn,
      data: {
        device: ref,
        from_release: previous.release_prn
          ? { prn: previous.release_prn, version: previous.release_version }
          : null,
        to_release: reported.release_prn
          ? { prn: reported.release_prn, version: reported.release_version, known: !!known }
          : null,
        from_bundle: previous.bundle_prn ? { prn: previous.bundle_prn } : null,
        to_bundle: reported.bundle_prn ? { prn: reported.bundle_prn, known: bundleKnown } : null,
      },
    };
  });
}
