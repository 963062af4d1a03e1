import { formatPrn } from '@peridio-actions/core/base';
import type { RegistryContext } from './context.js';
import type {
  ArtifactRow,
  ArtifactVersionRow,
  BinaryRow,
  PartRow,
  SignatureRow,
  SigningKeyRow,
} from './store/rows.js';
import type { SignatureWithKey } from './store/store.js';

/** Rows → wire objects with the field names and nullability of Peridio's API (the contract schemas check them). */

function metadata(text: string | null): Record<string, unknown> | null {
  return text === null ? null : (JSON.parse(text) as Record<string, unknown>);
}

export function artifactJson(ctx: RegistryContext, row: ArtifactRow) {
  return {
    custom_metadata: metadata(row.custom_metadata),
    description: row.description,
    inserted_at: row.inserted_at,
    name: row.name,
    organization_prn: formatPrn(row.org),
    prn: formatPrn(row.org, 'artifact', row.id),
    updated_at: row.updated_at,
  };
}

export function artifactVersionJson(ctx: RegistryContext, row: ArtifactVersionRow) {
  return {
    artifact_prn: formatPrn(row.org, 'artifact', row.artifact_id),
    custom_metadata: metadata(row.custom_metadata),
    description: row.description,
    inserted_at: row.inserted_at,
    organization_prn: formatPrn(row.org),
    prn: formatPrn(row.org, 'artifact_version', row.id),
    updated_at: row.updated_at,
    version: row.version,
  };
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Ed25519 values are stored raw (base64); RSA/ECDSA keys and certificates are stored as their PEM. */
function publicKeyPem(rawBase64: string): string {
  if (rawBase64.includes('-----BEGIN')) return rawBase64;
  const der = Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(rawBase64, 'base64')]);
  return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`;
}

/** `signatures`: preloaded for a page (forBinaries); else read for this binary. */
export async function binaryJson(ctx: RegistryContext, row: BinaryRow, signatures?: SignatureWithKey[]) {
  signatures ??= await ctx.store.signatures.forBinary(row.id);
  return {
    artifact_version_prn: formatPrn(row.org, 'artifact_version', row.artifact_version_id),
    custom_metadata: metadata(row.custom_metadata),
    description: row.description,
    hash: row.hash,
    inserted_at: row.inserted_at,
    organization_prn: formatPrn(row.org),
    prn: formatPrn(row.org, 'binary', row.id),
    revision: row.revision,
    signatures: signatures.map((s) => ({
      signature: s.signature,
      signing_key_prn: formatPrn(row.org, 'signing_key', s.signing_key_id),
      keyid: s.keyid,
      public_value: publicKeyPem(s.value),
    })),
    size: row.size,
    state: row.state,
    target: row.target,
    updated_at: row.updated_at,
    // Not in Peridio's schema (clients ignore unknown keys): why the server sent the binary back to
    // `uploadable` after its own hash check failed. Present only after such a failure.
    ...(row.hash_error ? { hash_error: row.hash_error } : {}),
  };
}

export function partJson(ctx: RegistryContext, row: PartRow) {
  return {
    binary_prn: formatPrn(row.org, 'binary', row.binary_id),
    hash: row.hash,
    index: row.idx,
    inserted_at: row.inserted_at,
    organization_prn: formatPrn(row.org),
    prn: formatPrn(row.org, 'binary_part', row.id),
    size: row.size,
    state: row.state,
    updated_at: row.updated_at,
  };
}

export function signingKeyJson(ctx: RegistryContext, row: SigningKeyRow) {
  return {
    inserted_at: row.inserted_at,
    keyid: row.keyid,
    name: row.name,
    organization_prn: formatPrn(row.org),
    prn: formatPrn(row.org, 'signing_key', row.id),
    updated_at: row.updated_at,
    value: row.value,
  };
}

export async function signatureJson(ctx: RegistryContext, row: SignatureRow) {
  const key = await ctx.store.signingKeys.find(row.org, row.signing_key_id);
  return {
    binary_prn: formatPrn(row.org, 'binary', row.binary_id),
    inserted_at: row.inserted_at,
    keyid: key?.keyid ?? '',
    organization_prn: formatPrn(row.org),
    prn: formatPrn(row.org, 'binary_signature', row.id),
    signature: row.signature,
    signing_key_prn: formatPrn(row.org, 'signing_key', row.signing_key_id),
    updated_at: row.updated_at,
  };
}
