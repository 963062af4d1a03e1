/** The records of release management, as the domain modules and every ReleaseStore see them. */

export type Json = Record<string, unknown>;

export interface ProductRecord {
  id: string;
  name: string;
  archived: boolean;
  inserted_at: string;
  updated_at: string;
}

export interface CohortRecord {
  id: string;
  product_id: string;
  name: string;
  description: string | null;
  inserted_at: string;
  updated_at: string;
}

export interface ReportedState {
  release_prn: string | null;
  bundle_prn: string | null;
  release_version: string | null;
}

export interface DeviceRecord {
  id: string;
  product_id: string;
  cohort_id: string | null;
  identifier: string;
  description: string | null;
  quarantined: boolean;
  tags: string[] | null;
  target: string | null;
  last_connected_at: string | null;
  reported: ReportedState;
  inserted_at: string;
  updated_at: string;
}

export interface BundleBinary {
  binary_id: string;
  /** Resolved once at bundle creation (see bundle.ts), never re-read from the binary. */
  custom_metadata: Json;
}

export interface BundleRecord {
  id: string;
  name: string | null;
  hash: string;
  binaries: BundleBinary[];
  inserted_at: string;
  updated_at: string;
}

export interface BundleSignatureRecord {
  id: string;
  bundle_id: string;
  signing_key_id: string;
  keyid: string;
  signature: string;
  inserted_at: string;
  updated_at: string;
}

type PhaseMode = 'numeric' | 'tags';

export interface ReleaseRecord {
  id: string;
  cohort_id: string;
  bundle_id: string;
  name: string;
  description: string | null;
  required: boolean;
  disabled: boolean;
  schedule_date: string;
  phase_mode: PhaseMode;
  phase_value: number;
  phase_tags: string[] | null;
  version: string | null;
  version_requirement: string | null;
  next_release_id: string | null;
  inserted_at: string;
  updated_at: string;
}

export interface OverrideRecord {
  id: string;
  bundle_id: string;
  name: string;
  description: string | null;
  starts_at: string;
  ends_at: string | null;
  inserted_at: string;
  updated_at: string;
}

export interface OverrideDeviceRecord {
  override_id: string;
  device_id: string;
  inserted_at: string;
  updated_at: string;
}

export type EventType = 'device' | 'webhook' | 'api_key';

export interface EventRecord {
  id: string;
  type: EventType;
  subtype: string;
  resource_prn: string | null;
  actor_prn: string | null;
  /** The event's `data.data` payload. */
  data: Json;
  inserted_at: string;
}
