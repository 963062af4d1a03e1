/** Release-management resources as the Admin API returns them (docs/release-management.md). */
import type { CustomMetadata } from './types.js';

export interface Product {
  prn: string;
  name: string;
  archived: boolean;
}

export interface Cohort {
  prn: string;
  name: string;
  product_prn: string;
  description: string | null;
}

export interface Device {
  prn: string;
  identifier: string;
  product_prn: string;
  cohort_prn: string | null;
  tags: string[] | null;
  quarantined: boolean;
  description: string | null;
  target: string | null;
  reported_release_prn: string | null;
  reported_bundle_prn: string | null;
  reported_release_version: string | null;
}

export interface Bundle {
  prn: string;
  name: string | null;
  hash: string;
  binaries: { prn: string; custom_metadata: CustomMetadata }[];
  inserted_at: string;
}

export interface BundleSignature {
  prn: string;
  bundle_prn: string;
  signing_key_prn: string;
  keyid: string;
  signature: string;
}

/** A bundle for chosen devices during a time window, ahead of any release of their cohort. */
export interface BundleOverride {
  prn: string;
  name: string;
  bundle_prn: string;
  description: string | null;
  starts_at: string;
  /** Open-ended when null. */
  ends_at: string | null;
  inserted_at: string;
}

export interface BundleOverrideDevice {
  device_prn: string;
  inserted_at: string;
}

export type PhaseMode = 'numeric' | 'tags';

export interface Release {
  prn: string;
  name: string;
  bundle_prn: string;
  cohort_prn: string;
  description: string | null;
  disabled: boolean;
  required: boolean;
  phase_mode: PhaseMode;
  phase_value: number;
  phase_tags: string[];
  schedule_date: string;
  schedule_complete: boolean;
  next_release_prn: string | null;
  version: string | null;
  version_requirement: string | null;
  inserted_at: string;
}

export interface ManifestSignature {
  signature: string;
  signing_key_prn: string;
  keyid: string;
  /** PEM SPKI the server claims for the key; a verifier must not trust it for that alone. */
  public_value: string;
}

export interface ManifestItem {
  artifact_prn: string;
  artifact_version: string;
  binary_prn: string;
  custom_metadata: CustomMetadata;
  hash: string;
  signatures: ManifestSignature[];
  size: number;
  target: string;
  url: string;
}

export type UpdateStatus = 'update' | 'no_update' | 'device_quarantine';

export interface UpdateCheck {
  status: UpdateStatus;
  source_type: 'release' | 'bundle_override' | null;
  source_prn: string | null;
  bundle_prn: string | null;
  manifest: ManifestItem[];
}

export interface UpdateCheckBody {
  release_prn?: string;
  bundle_prn?: string;
  release_version?: string;
  write?: boolean;
}
