/**
 * `dry-run: true`: every check a real run makes before its first write, including those that need the
 * registry (it answers, the API key is accepted, the signing key is registered), and a statement of what
 * the run would create or resume. Only GETs are sent; nothing is created, uploaded or signed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InputError, notFoundAsInput } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { isPrn, requirePrn } from '../prn.js';
import { searchQuery } from '../client/search.js';
import type { Artifact, ArtifactVersion, Binary } from '../types.js';
import { findFirst, iteratePages } from '../paging.js';
import type { PublishBinaryApi } from './api.js';
import { resolveSigningKey } from './signing-key.js';
import type { Ed25519KeyPair } from '../keys.js';
import type { Signer } from '../signing/signer.js';
import type { SameCommit } from './binary.js';

export interface DryRunReport {
  /** One sentence per step: what a real run would do. */
  plan: string[];
}

type Api = Pick<
  PublishBinaryApi,
  | 'getArtifact'
  | 'listArtifacts'
  | 'listArtifactVersions'
  | 'getArtifactVersion'
  | 'listBinaries'
  | 'getBinary'
  | 'getSigningKey'
  | 'listSigningKeys'
>;

export interface DryRunOptions {
  api: Api;
  logger?: Logger;
  /** create-artifact-version / publish-binary */
  artifact?: string;
  version?: string;
  /** upload-binary */
  artifactVersionPrn?: string;
  target?: string;
  filePath?: string;
  keepSignedOf?: SameCommit;
  /** sign-binary / publish-binary */
  key?: Signer | Ed25519KeyPair;
  signingKeyPrn?: string;
  binaryPrn?: string;
  expectedHash?: string;
}

export async function dryRun(options: DryRunOptions): Promise<DryRunReport> {
  const { api } = options;
  const logger = options.logger ?? silentLogger;
  const plan: string[] = [];
  const say = (line: string) => {
    plan.push(line);
    logger.info(`dry-run: ${line}`);
  };

  if (options.key) {
    const signingKey = await resolveSigningKey(api, options.key, options.signingKeyPrn, logger);
    say(`signing key ${signingKey.prn} is registered and matches the signer`);
  }

  let artifactVersion: ArtifactVersion | undefined;
  if (options.artifact !== undefined && options.version !== undefined) {
    const artifact = await findArtifact(api, options.artifact);
    if (!artifact) say(`would create artifact ${options.artifact}`);
    artifactVersion = artifact && (await findVersion(api, artifact, options.version));
    say(
      artifactVersion
        ? `version ${options.version} exists (${artifactVersion.prn})`
        : `would create version ${options.version}`,
    );
  } else if (options.artifactVersionPrn) {
    artifactVersion = await getOrInputError(
      () => api.getArtifactVersion(options.artifactVersionPrn!),
      'artifact-version-prn',
      `no artifact version ${options.artifactVersionPrn} is visible to this API key`,
    );
    say(`artifact version ${artifactVersion.prn} (${artifactVersion.version}) exists`);
  }

  if (options.target !== undefined && options.filePath !== undefined) {
    const hash = await sha256Of(options.filePath);
    const binary = artifactVersion && (await findBinary(api, artifactVersion.prn, options.target));
    say(describeUpload(binary, hash, options));
  }

  if (options.binaryPrn) {
    const prn = requirePrn(options.binaryPrn, 'binary', 'binary-prn');
    const binary = await getOrInputError(
      () => api.getBinary(prn),
      'binary-prn',
      `no binary ${prn} is visible to this API key`,
    );
    if (options.expectedHash && binary.hash !== options.expectedHash) {
      throw new InputError(
        'expected-hash',
        `binary ${prn} holds sha256 ${binary.hash}, not the expected ${options.expectedHash}; a real run would refuse to sign it`,
      );
    }
    say(
      binary.state === 'signable'
        ? `would sign binary ${prn} (sha256 ${binary.hash})`
        : binary.state === 'signed'
          ? `binary ${prn} is signed; a real run signs only if this key has not`
          : `binary ${prn} is ${binary.state}; a real run would fail until its upload is verified`,
    );
  }
  say('nothing was created, uploaded or signed');
  return { plan };
}

function describeUpload(binary: Binary | undefined, hash: string, options: DryRunOptions): string {
  const target = options.target!;
  if (!binary) return `would create the binary for target ${target} and upload the file (sha256 ${hash})`;
  if (binary.hash !== hash) {
    if (binary.state !== 'signed')
      return `would reset binary ${binary.prn} (${binary.state}, other content) to this file and upload it`;
    const metadata = binary.custom_metadata;
    const same =
      options.keepSignedOf &&
      metadata?.repository === options.keepSignedOf.repository &&
      metadata?.commit === options.keepSignedOf.commit;
    if (same)
      return `target ${target} is signed with other content from this commit; a real run would keep it (kept-existing)`;
    throw new InputError(
      'file',
      `target '${target}' is already signed with other content (sha256 ${binary.hash}); this file is sha256 ${hash}. A real run would fail.`,
    );
  }
  if (binary.state === 'signable' || binary.state === 'signed')
    return `binary ${binary.prn} already holds this file (${binary.state}); nothing to upload`;
  return `would resume binary ${binary.prn} (${binary.state}) for target ${target}`;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function findArtifact(api: Api, nameOrPrn: string): Promise<Artifact | undefined> {
  const value = nameOrPrn.trim();
  if (value.startsWith('prn:') || isPrn(value)) {
    const prn = requirePrn(value, 'artifact', 'artifact');
    return getOrInputError(
      () => api.getArtifact(prn),
      'artifact',
      `no artifact ${prn} is visible to this API key`,
    );
  }
  return findFirst(
    (p) => api.listArtifacts(p),
    { search: searchQuery({ name: value }), order: 'asc', limit: 100 },
    (a) => a.name === value,
  );
}

function findVersion(api: Api, artifact: Artifact, version: string): Promise<ArtifactVersion | undefined> {
  return findFirst(
    (p) => api.listArtifactVersions(p),
    { search: searchQuery({ artifact_prn: artifact.prn, version }), order: 'asc', limit: 100 },
    (v) => v.artifact_prn === artifact.prn && v.version === version,
  );
}

async function findBinary(api: Api, artifactVersionPrn: string, target: string): Promise<Binary | undefined> {
  const search = searchQuery({ target, artifact_version_prn: artifactVersionPrn });
  for await (const binary of iteratePages((p) => api.listBinaries(p), { search, limit: 100 })) {
    if (binary.target === target && binary.artifact_version_prn === artifactVersionPrn) {
      if (binary.state !== 'destroyed') return binary;
    }
  }
  return undefined;
}

async function getOrInputError<T>(get: () => Promise<T>, input: string, message: string): Promise<T> {
  try {
    return await get();
  } catch (err) {
    throw notFoundAsInput(err, input, message);
  }
}
