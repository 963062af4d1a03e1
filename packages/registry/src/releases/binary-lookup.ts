import type { RegistryContext } from '../context.js';
import { publicKeyPem } from '../records.js';
import type { Json } from './types.js';

/**
 * The only place release management reads the binary side (binaries, their signatures, signing keys,
 * download URLs). Routes get a BinaryLookup; this implementation reads the registry's database and
 * presigner, so pointing release management at another Store means rewriting this file only.
 */
export interface BinarySignatureInfo {
  signature: string;
  signing_key_id: string;
  keyid: string;
  /** PEM SPKI of the signing key, as peridiod compares it with its trusted keys. */
  public_value: string;
}

export interface BinaryInfo {
  id: string;
  state: string;
  hash: string;
  size: number;
  target: string;
  artifact_id: string;
  artifact_version_id: string;
  metadata: { binary: Json | null; artifactVersion: Json | null; artifact: Json | null };
  signatures: BinarySignatureInfo[];
}

export interface SigningKeyInfo {
  id: string;
  keyid: string;
  /** Raw Ed25519 public key, base64. */
  value: string;
}

export interface BinaryLookup {
  binary(id: string): Promise<BinaryInfo | undefined>;
  /** The live binaries of an artifact version, or undefined when there is no such version. */
  binariesOfArtifactVersion(id: string): Promise<BinaryInfo[] | undefined>;
  signingKey(ref: { id: string } | { keyid: string }): Promise<SigningKeyInfo | undefined>;
  /** A presigned, expiring, Range-capable URL of the binary's content; undefined when it has none. */
  downloadUrl(baseUrl: string, binaryId: string): Promise<string | undefined>;
}

interface JoinedRow {
  id: string;
  state: string;
  hash: string;
  size: number;
  target: string;
  custom_metadata: string | null;
  artifact_version_id: string;
  version_metadata: string | null;
  artifact_id: string;
  artifact_metadata: string | null;
}

const parse = (text: string | null) => (text === null ? null : (JSON.parse(text) as Json));

export function registryBinaryLookup(ctx: RegistryContext): BinaryLookup {
  const SELECT = `SELECT b.id, b.state, b.hash, b.size, b.target, b.custom_metadata, b.artifact_version_id,
    v.custom_metadata AS version_metadata, v.artifact_id, a.custom_metadata AS artifact_metadata
    FROM binaries b JOIN artifact_versions v ON v.id = b.artifact_version_id JOIN artifacts a ON a.id = v.artifact_id`;
  const info = (row: JoinedRow): BinaryInfo => ({
    id: row.id,
    state: row.state,
    hash: row.hash,
    size: Number(row.size),
    target: row.target,
    artifact_id: row.artifact_id,
    artifact_version_id: row.artifact_version_id,
    metadata: {
      binary: parse(row.custom_metadata),
      artifactVersion: parse(row.version_metadata),
      artifact: parse(row.artifact_metadata),
    },
    signatures: ctx.db
      .all<{ signature: string; signing_key_id: string; keyid: string; value: string }>(
        `SELECT s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
         JOIN signing_keys k ON k.id = s.signing_key_id WHERE s.binary_id = ? ORDER BY s.seq`,
        row.id,
      )
      .map((s) => ({
        signature: s.signature,
        signing_key_id: s.signing_key_id,
        keyid: s.keyid,
        public_value: publicKeyPem(s.value),
      })),
  });
  return {
    async binary(id) {
      const row = ctx.db.get<JoinedRow>(`${SELECT} WHERE b.id = ? AND b.org = ?`, id, ctx.org);
      return row && info(row);
    },
    async binariesOfArtifactVersion(id) {
      if (!ctx.db.get('SELECT 1 FROM artifact_versions WHERE id = ? AND org = ?', id, ctx.org))
        return undefined;
      return ctx.db
        .all<JoinedRow>(
          `${SELECT} WHERE b.artifact_version_id = ? AND b.state <> 'destroyed' ORDER BY b.target, b.seq`,
          id,
        )
        .map(info);
    },
    async signingKey(ref) {
      const row =
        'id' in ref
          ? ctx.db.get<SigningKeyInfo>(
              'SELECT id, keyid, value FROM signing_keys WHERE id = ? AND org = ?',
              ref.id,
              ctx.org,
            )
          : ctx.db.get<SigningKeyInfo>(
              'SELECT id, keyid, value FROM signing_keys WHERE keyid = ? AND org = ?',
              ref.keyid,
              ctx.org,
            );
      return row && { id: row.id, keyid: row.keyid, value: row.value };
    },
    async downloadUrl(baseUrl, binaryId) {
      const row = ctx.db.get<{ blob_hash: string | null; state: string }>(
        'SELECT blob_hash, state FROM binaries WHERE id = ? AND org = ?',
        binaryId,
        ctx.org,
      );
      if (!row?.blob_hash || (row.state !== 'signable' && row.state !== 'signed')) return undefined;
      return ctx.presigner.downloadUrl(baseUrl, binaryId, row.blob_hash);
    },
  };
}
