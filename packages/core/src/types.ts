/**
 * Wire types of Peridio's Admin API, as the official SDK parses them. Fields the SDK
 * treats as optional or nullable are typed so here, so that responses of older servers still parse.
 */
export type CustomMetadata = Record<string, unknown>;

export interface Artifact {
  prn: string;
  organization_prn: string;
  name: string;
  description: string | null;
  custom_metadata: CustomMetadata | null;
  inserted_at: string;
  updated_at: string;
}

export interface ArtifactVersion {
  prn: string;
  organization_prn: string;
  artifact_prn: string;
  version: string;
  description: string | null;
  custom_metadata: CustomMetadata | null;
  inserted_at: string;
  updated_at: string;
}

export type BinaryState = 'uploadable' | 'hashable' | 'hashing' | 'signable' | 'signed' | 'destroyed';
export const BINARY_STATES: readonly BinaryState[] = [
  'uploadable',
  'hashable',
  'hashing',
  'signable',
  'signed',
  'destroyed',
];

export interface BinarySignatureRef {
  signature: string;
  signing_key_prn: string;
  keyid?: string;
  public_value?: string;
}

export interface Binary {
  prn: string;
  organization_prn: string;
  artifact_version_prn: string;
  target: string;
  hash: string | null;
  size: number | null;
  state: BinaryState;
  description: string | null;
  custom_metadata: CustomMetadata | null;
  revision?: number;
  signatures: BinarySignatureRef[] | null;
  inserted_at: string;
  updated_at: string;
}

export type BinaryPartState = 'uploadable' | 'invalid_size' | 'invalid_hash' | 'valid';
export const BINARY_PART_STATES: readonly BinaryPartState[] = [
  'uploadable',
  'invalid_size',
  'invalid_hash',
  'valid',
];

export interface BinaryPart {
  prn: string;
  organization_prn: string;
  binary_prn: string | null;
  index: number;
  hash: string;
  size: number;
  state: BinaryPartState;
  inserted_at: string;
  updated_at: string;
}

/** The create/overwrite answer adds the presigned URL the bytes go to. */
export interface CreatedBinaryPart extends BinaryPart {
  presigned_upload_url: string;
}

export interface BinarySignature {
  prn: string;
  organization_prn: string;
  binary_prn: string;
  signing_key_prn: string;
  keyid: string;
  signature: string;
  inserted_at: string;
  updated_at: string;
}

export interface SigningKey {
  prn: string;
  organization_prn: string;
  name: string;
  value: string | null;
  keyid?: string;
  inserted_at: string;
  updated_at: string;
}

export interface ListParams {
  limit?: number;
  order?: 'asc' | 'desc';
  search?: string;
  page?: string;
}

export interface Page<T> {
  items: T[];
  next_page: string | null;
}
