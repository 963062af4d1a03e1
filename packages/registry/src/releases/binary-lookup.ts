import { downloadUrl } from '../content.js';
import type { RegistryContext } from '../context.js';
import { publicKeyPem } from '../records.js';
import type { BinaryRow } from '../store/rows.js';
import type { Filter } from '../store/store.js';
import type { Json } from './types.js';

/**
 * The only place release management reads the binary side (binaries, their signatures, signing keys,
 * download URLs). Routes get a BinaryLookup; this implementation reads the registry's Store and presigner.
 */
interface BinarySignatureInfo {
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
  /** Where the content is (what a download URL is made from); null until it is verified. */
  blob_hash: string | null;
  upload_generation: number;
  metadata: { binary: Json | null; artifactVersion: Json | null; artifact: Json | null };
  signatures: BinarySignatureInfo[];
}

interface SigningKeyInfo {
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
  downloadUrl(baseUrl: string, binary: BinaryInfo): Promise<string | undefined>;
}

const parse = (text: string | null) => (text === null ? null : (JSON.parse(text) as Json));

/** S3 URLs are reused for a twentieth of their lifetime: a device always gets one with 95 % of it left. */
const URL_REUSE_SHARE = 1 / 20;
const MAX_KEPT_URLS = 10_000;

export function registryBinaryLookup(ctx: RegistryContext): BinaryLookup {
  const { store, org } = ctx;
  // An S3 presigned URL costs the SDK's whole request pipeline (measured: a quarter of the registry's CPU in
  // an update check on PostgreSQL + S3); the registry's own are one HMAC and are made fresh each time.
  const urls = new Map<string, { url: string; madeAt: number }>();
  async function info(b: BinaryRow): Promise<BinaryInfo> {
    // A binary's version and artifact are never deleted while the binary exists (the store refuses it).
    const version = (await store.artifactVersions.find(org, b.artifact_version_id))!;
    const artifact = (await store.artifacts.find(org, version.artifact_id))!;
    const signatures = await store.signatures.forBinary(b.id);
    return {
      id: b.id,
      state: b.state,
      hash: b.hash,
      size: b.size,
      target: b.target,
      artifact_id: artifact.id,
      artifact_version_id: version.id,
      blob_hash: b.blob_hash,
      upload_generation: b.upload_generation,
      metadata: {
        binary: parse(b.custom_metadata),
        artifactVersion: parse(version.custom_metadata),
        artifact: parse(artifact.custom_metadata),
      },
      signatures: signatures.map((s) => ({
        signature: s.signature,
        signing_key_id: s.signing_key_id,
        keyid: s.keyid,
        public_value: publicKeyPem(s.value),
      })),
    };
  }
  return {
    async binary(id) {
      const row = await store.binaries.find(org, id);
      return row && info(row);
    },
    async binariesOfArtifactVersion(id) {
      if (!(await store.artifactVersions.find(org, id))) return undefined;
      const live: BinaryRow[] = [];
      const filters: Filter[] = [{ field: 'artifact_version_prn', op: '=', prn: { org, id } }];
      for (let after = 0, more = true; more;) {
        const page = await store.binaries.list({ org, limit: 100, order: 'asc', after, filters });
        live.push(...page.rows.filter((b) => b.state !== 'destroyed'));
        more = page.more;
        after = page.rows.at(-1)?.seq ?? after;
      }
      live.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : a.seq - b.seq));
      return Promise.all(live.map(info));
    },
    async signingKey(ref) {
      const row =
        'id' in ref
          ? await store.signingKeys.find(org, ref.id)
          : await store.signingKeys.findByKeyid(org, ref.keyid);
      return row && { id: row.id, keyid: row.keyid, value: row.value };
    },
    async downloadUrl(baseUrl, binary) {
      if (!binary.blob_hash || (binary.state !== 'signable' && binary.state !== 'signed')) return undefined;
      // The same URL `GET /binaries/{prn}/download_url` answers: S3's own when the content is there.
      if (!ctx.blobs.direct) return downloadUrl(ctx, baseUrl, binary);
      const key = `${binary.id} ${binary.upload_generation} ${binary.blob_hash}`;
      const now = Date.now();
      const kept = urls.get(key);
      if (kept && now - kept.madeAt < ctx.presigner.ttlSeconds * 1000 * URL_REUSE_SHARE) return kept.url;
      const url = await downloadUrl(ctx, baseUrl, binary);
      if (urls.size >= MAX_KEPT_URLS) urls.clear();
      urls.set(key, { url, madeAt: now });
      return url;
    },
  };
}
