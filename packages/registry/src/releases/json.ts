import { phaseType, scheduleComplete } from './phase.js';
import { prn } from './prn.js';
import type {
  BundleRecord,
  BundleSignatureRecord,
  CohortRecord,
  DeviceRecord,
  EventRecord,
  OverrideDeviceRecord,
  OverrideRecord,
  ProductRecord,
  ReleaseRecord,
} from './types.js';

/** Records → wire objects with the field names of Peridio's Admin API spec. */

export const productJson = (org: string, r: ProductRecord) => ({
  archived: r.archived,
  inserted_at: r.inserted_at,
  name: r.name,
  organization_prn: `prn:1:${org}`,
  prn: prn(org, 'product', r.id),
  updated_at: r.updated_at,
});

export const cohortJson = (org: string, r: CohortRecord) => ({
  description: r.description,
  inserted_at: r.inserted_at,
  name: r.name,
  organization_prn: `prn:1:${org}`,
  prn: prn(org, 'cohort', r.id),
  product_prn: prn(org, 'product', r.product_id),
  updated_at: r.updated_at,
});

export const deviceJson = (org: string, r: DeviceRecord) => ({
  cohort_prn: r.cohort_id === null ? null : prn(org, 'cohort', r.cohort_id),
  description: r.description,
  identifier: r.identifier,
  inserted_at: r.inserted_at,
  last_connected_at: r.last_connected_at,
  organization_prn: `prn:1:${org}`,
  prn: prn(org, 'device', r.id),
  product_prn: prn(org, 'product', r.product_id),
  quarantined: r.quarantined,
  reported_bundle_prn: r.reported.bundle_prn,
  reported_release_prn: r.reported.release_prn,
  reported_release_version: r.reported.release_version,
  tags: r.tags,
  target: r.target,
  updated_at: r.updated_at,
});

export const bundleJson = (org: string, r: BundleRecord) => ({
  binaries: r.binaries.map((b) => ({
    prn: prn(org, 'binary', b.binary_id),
    custom_metadata: b.custom_metadata,
  })),
  hash: r.hash,
  inserted_at: r.inserted_at,
  name: r.name,
  organization_prn: `prn:1:${org}`,
  prn: prn(org, 'bundle', r.id),
  updated_at: r.updated_at,
});

export const bundleSignatureJson = (org: string, r: BundleSignatureRecord) => ({
  bundle_prn: prn(org, 'bundle', r.bundle_id),
  inserted_at: r.inserted_at,
  keyid: r.keyid,
  organization_prn: `prn:1:${org}`,
  prn: prn(org, 'bundle_signature', r.id),
  signature: r.signature,
  signing_key_prn: prn(org, 'signing_key', r.signing_key_id),
  updated_at: r.updated_at,
});

export const releaseJson = (org: string, r: ReleaseRecord, now: Date) => ({
  bundle_prn: prn(org, 'bundle', r.bundle_id),
  cohort_prn: prn(org, 'cohort', r.cohort_id),
  description: r.description,
  disabled: r.disabled,
  inserted_at: r.inserted_at,
  name: r.name,
  next_release_prn: r.next_release_id === null ? null : prn(org, 'release', r.next_release_id),
  organization_prn: `prn:1:${org}`,
  phase_mode: r.phase_mode,
  phase_tags: r.phase_tags ?? [],
  phase_type: phaseType(r),
  phase_value: r.phase_value,
  prn: prn(org, 'release', r.id),
  required: r.required,
  schedule_complete: scheduleComplete(r, now),
  schedule_date: r.schedule_date,
  updated_at: r.updated_at,
  version: r.version,
  version_requirement: r.version_requirement,
});

export const overrideJson = (org: string, r: OverrideRecord) => ({
  bundle_prn: prn(org, 'bundle', r.bundle_id),
  description: r.description,
  ends_at: r.ends_at,
  inserted_at: r.inserted_at,
  name: r.name,
  organization_prn: `prn:1:${org}`,
  prn: prn(org, 'bundle_override', r.id),
  starts_at: r.starts_at,
  updated_at: r.updated_at,
});

export const overrideDeviceJson = (org: string, r: OverrideDeviceRecord) => ({
  device_prn: prn(org, 'device', r.device_id),
  inserted_at: r.inserted_at,
  updated_at: r.updated_at,
});

/** The webhook envelope (`version`, `prn`, `type`, `inserted_at`, `data: {type, data}`) plus the list's keys. */
export const eventJson = (org: string, r: EventRecord) => ({
  actor_prn: r.actor_prn,
  data: { type: r.subtype, data: r.data },
  event_subtype: r.subtype,
  inserted_at: r.inserted_at,
  prn: prn(org, 'event', r.id),
  resource_prn: r.resource_prn,
  type: r.type,
  version: 1,
});
