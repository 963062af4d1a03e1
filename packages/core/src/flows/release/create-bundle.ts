/**
 * The fan-in step of a release: every signed binary of one or more artifact versions, in a stable order
 * (artifact name, then target), as one bundle. The bundle's id is derived from what goes in, so a re-run,
 * or a second fan-in job racing this one, gets the same bundle back instead of a second one.
 */
import { createHash } from 'node:crypto';
import { ApiError, InputError } from '../../errors.js';
import { signHash, type Ed25519KeyPair } from '../../keys.js';
import { silentLogger, type Logger } from '../../logger.js';
import { searchQuery } from '../../client/search.js';
import type { PeridioClient } from '../../client/admin-client.js';
import type { Bundle, BundleSignature } from '../../release-types.js';
import type { Binary, CustomMetadata } from '../../types.js';
import { iteratePages } from '../../paging.js';
import { findArtifactVersion, orUndefined, type ResolvedVersion } from './lookup.js';

export type BundleComponent = { artifact: string; version: string } | { prn: string };

export interface CreateBundleOptions {
  api: PeridioClient;
  components: BundleComponent[];
  /** The action input the components came from (`artifact` or `artifact-versions`), for errors. */
  componentsInput: string;
  targets?: string[];
  name?: string;
  customMetadata?: CustomMetadata;
  expectTargets?: string[];
  key?: Ed25519KeyPair;
  logger?: Logger;
}

export interface BundledBinary {
  target: string;
  binary_prn: string;
  hash: string;
  size: number;
  artifact: string;
  version: string;
}

export interface CreateBundleResult {
  bundle: Bundle;
  binaries: BundledBinary[];
  signature?: BundleSignature;
  created: boolean;
}

/** Sorted keys, no whitespace: the same metadata always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * A UUID (version 8, RFC 9562's custom layout) from the SHA-256 of the bundle's content: each binary PRN
 * with the metadata given for it, in order, and the name. Same inputs → same id, anywhere.
 */
export function bundleIdOf(
  binaryPrns: string[],
  customMetadata: CustomMetadata | undefined,
  name: string,
): string {
  const text = [`name:${name}`, `metadata:${canonicalJson(customMetadata ?? null)}`, ...binaryPrns].join(
    '\n',
  );
  const b = createHash('sha256').update(`peridio-actions bundle v1\n${text}`).digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function binariesOf(api: PeridioClient, v: ResolvedVersion): Promise<Binary[]> {
  const search = searchQuery({ artifact_version_prn: v.version.prn });
  const out: Binary[] = [];
  for await (const b of iteratePages((p) => api.listBinaries(p), { search, order: 'asc', limit: 100 })) {
    if (b.artifact_version_prn === v.version.prn && b.state !== 'destroyed') out.push(b);
  }
  return out;
}

const label = (v: ResolvedVersion) => `${v.artifact.name}@${v.version.version}`;

export async function createBundle(options: CreateBundleOptions): Promise<CreateBundleResult> {
  const { api } = options;
  const logger = options.logger ?? silentLogger;
  if (options.components.length === 0)
    throw new InputError(options.componentsInput, 'names no artifact version');
  const versions: ResolvedVersion[] = [];
  for (const c of options.components)
    versions.push(await findArtifactVersion(api, c, options.componentsInput));

  const picked: BundledBinary[] = [];
  const notSigned: string[] = [];
  const seenTargets = new Map<string, string[]>();
  for (const v of versions) {
    for (const b of await binariesOf(api, v)) {
      if (options.targets && !options.targets.includes(b.target)) continue;
      const states = seenTargets.get(b.target) ?? [];
      states.push(`${label(v)} ${b.state}`);
      seenTargets.set(b.target, states);
      if (b.state !== 'signed') {
        notSigned.push(`${b.target} (${label(v)}, ${b.state})`);
        continue;
      }
      picked.push({
        target: b.target,
        binary_prn: b.prn,
        hash: b.hash!,
        size: b.size!,
        artifact: v.artifact.name,
        version: v.version.version,
      });
    }
  }

  for (const t of options.expectTargets ?? []) {
    if (picked.some((b) => b.target === t)) continue;
    const seen = seenTargets.get(t);
    throw new InputError(
      'expect-targets',
      `target ${t} has no signed binary in ${versions.map(label).join(', ')}` +
        (seen ? ` (found: ${seen.join('; ')})` : ' (no binary at all)') +
        `: the matrix job for ${t} failed or has not finished. Re-run it, then re-run this job`,
    );
  }
  if (picked.length === 0) {
    throw new InputError(
      options.targets ? 'targets' : options.componentsInput,
      `${versions.map(label).join(', ')} has no signed binary${options.targets ? ` for ${options.targets.join(', ')}` : ''}` +
        (notSigned.length ? ` (not signed yet: ${notSigned.join(', ')})` : '') +
        '; publish and sign the binaries first (publish-binary), then re-run',
    );
  }
  if (notSigned.length > 0) logger.warning(`left out, not signed: ${notSigned.join(', ')}`);

  picked.sort((a, b) =>
    a.artifact !== b.artifact
      ? a.artifact < b.artifact
        ? -1
        : 1
      : a.target !== b.target
        ? a.target < b.target
          ? -1
          : 1
        : a.binary_prn < b.binary_prn
          ? -1
          : 1,
  );
  const name = options.name ?? versions.map(label).join(' + ');
  const prns = picked.map((b) => b.binary_prn);
  const id = bundleIdOf(prns, options.customMetadata, name);
  const orgPrn = prns[0]!.split(':').slice(0, 3).join(':');
  let bundle = await orUndefined(api.releases.getBundle(`${orgPrn}:bundle:${id}`));
  let created = false;
  if (!bundle) {
    // A racing job's POST with the same id answers the existing bundle (200): the id makes this safe.
    ({ bundle, created } = await api.releases.createBundle({
      id,
      name,
      binaries: prns.map((prn) => ({ prn, custom_metadata: options.customMetadata ?? null })),
    }));
  }
  logger.info(`${created ? 'Created' : 'Found'} bundle ${name}: ${bundle.prn} (hash ${bundle.hash})`);

  let signature: BundleSignature | undefined;
  if (options.key) {
    try {
      signature = await api.releases.createBundleSignature({
        bundle_prn: bundle.prn,
        signature: signHash(bundle.hash, options.key),
        signing_key_keyid: options.key.keyid,
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && 'signing_key_keyid' in err.fieldErrors) {
        throw new InputError(
          'signing-key-private',
          `its public key (keyid ${options.key.keyid.slice(0, 16)}…) is not a registered signing key; register it (value ${options.key.publicValue}), then re-run. The bundle ${bundle.prn} is kept`,
          { cause: err },
        );
      }
      throw err;
    }
    logger.info(`Bundle signed with key ${options.key.keyid.slice(0, 16)}: ${signature.prn}`);
  }
  return { bundle, binaries: picked, signature, created };
}
