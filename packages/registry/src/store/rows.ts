import type { BinaryPartState, BinaryState } from '@peridio-actions/core/base';

/** Records as a Store returns them. `seq` is the insertion order (listing order and page cursor). */
export interface ArtifactRow {
  seq: number;
  id: string;
  org: string;
  name: string;
  description: string | null;
  custom_metadata: string | null;
  inserted_at: string;
  updated_at: string;
}

export interface ArtifactVersionRow {
  seq: number;
  id: string;
  org: string;
  artifact_id: string;
  version: string;
  description: string | null;
  custom_metadata: string | null;
  inserted_at: string;
  updated_at: string;
}

export type BinaryStateName = BinaryState;

export interface BinaryRow {
  seq: number;
  id: string;
  org: string;
  artifact_version_id: string;
  target: string;
  hash: string;
  size: number;
  state: BinaryStateName;
  description: string | null;
  custom_metadata: string | null;
  revision: number;
  upload_generation: number;
  blob_hash: string | null;
  hash_error: string | null;
  inserted_at: string;
  updated_at: string;
}

export type PartStateName = BinaryPartState;

export interface PartRow {
  binary_id: string;
  idx: number;
  id: string;
  org: string;
  hash: string;
  size: number;
  state: PartStateName;
  file: string | null;
  inserted_at: string;
  updated_at: string;
}

export interface SigningKeyRow {
  seq: number;
  id: string;
  org: string;
  name: string;
  value: string;
  keyid: string;
  inserted_at: string;
  updated_at: string;
}

export interface SignatureRow {
  seq: number;
  id: string;
  org: string;
  binary_id: string;
  signing_key_id: string;
  signature: string;
  inserted_at: string;
  updated_at: string;
}
