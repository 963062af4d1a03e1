/**
 * Request bodies of the Admin API calls. Optional `description`/`custom_metadata` on creates are sent
 * as explicit `null` when left out, as the SDK serialises them; `id` (a custom UUID) only when given.
 */
import type { BinaryState, CustomMetadata } from '../types.js';

export interface CreateArtifactBody {
  name: string;
  description?: string | null;
  custom_metadata?: CustomMetadata | null;
  id?: string;
}

export interface UpdateArtifactBody {
  name?: string;
  description?: string | null;
  custom_metadata?: CustomMetadata | null;
}

export interface CreateArtifactVersionBody {
  artifact_prn: string;
  version: string;
  description?: string | null;
  custom_metadata?: CustomMetadata | null;
  id?: string;
}

/** `version` is immutable. */
export interface UpdateArtifactVersionBody {
  description?: string | null;
  custom_metadata?: CustomMetadata | null;
}

export interface CreateBinaryBody {
  artifact_version_prn: string;
  target: string;
  /** Lowercase hex SHA-256 of the whole content. */
  hash: string;
  size: number;
  description?: string | null;
  custom_metadata?: CustomMetadata | null;
  id?: string;
}

/** `hash` and `size` are missing from the spec but sent by the SDK; the CLI's reset flow needs them. */
export interface UpdateBinaryBody {
  state?: BinaryState;
  hash?: string;
  size?: number;
  description?: string | null;
  custom_metadata?: CustomMetadata | null;
}

export interface PartBody {
  /** 1-based. */
  index: number;
  expected_binary_size: number;
  /** Lowercase hex SHA-256 of this part. */
  hash: string;
  size: number;
}

/** One of `signing_key_prn` / `signing_key_keyid` is required by the server. */
export interface CreateBinarySignatureBody {
  binary_prn: string;
  /** 128 hex characters (Ed25519). */
  signature: string;
  signing_key_prn?: string;
  signing_key_keyid?: string;
}

export interface CreateSigningKeyBody {
  name: string;
  /** Base64 of the raw 32-byte Ed25519 public key. */
  value: string;
}

export interface UpdateSigningKeyBody {
  name?: string;
  value?: string;
}
