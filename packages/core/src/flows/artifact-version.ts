/**
 * Step 1 of a release: the artifact (by name, created when missing, or by PRN) and its version. Every
 * matrix job of a release runs this at the same time; all of them must end with the same version.
 */
import { InputError, notFoundAsInput } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { isPrn, requirePrn } from '../prn.js';
import { searchQuery } from '../client/search.js';
import type { Artifact, ArtifactVersion, CustomMetadata } from '../types.js';
import { validateVersion } from '../version.js';
import { findFirst } from '../paging.js';
import type { ArtifactVersionApi } from './api.js';
import { findOrCreate } from './race.js';

export interface EnsureArtifactVersionOptions {
  api: ArtifactVersionApi;
  /** An artifact name, or an artifact PRN (which must exist). */
  artifact: string;
  version: string;
  /** Used only when this call creates the version. */
  description?: string;
  customMetadata?: CustomMetadata;
  logger?: Logger;
}

export interface EnsuredArtifactVersion {
  artifact: Artifact;
  artifactVersion: ArtifactVersion;
  /** This call created the artifact version (false: it existed, or a concurrent job created it). */
  created: boolean;
  artifactCreated: boolean;
}

export async function ensureArtifactVersion(
  options: EnsureArtifactVersionOptions,
): Promise<EnsuredArtifactVersion> {
  const { api } = options;
  const logger = options.logger ?? silentLogger;
  const version = validateVersion(options.version);
  const { artifact, created: artifactCreated } = await ensureArtifact(api, options.artifact, logger);

  // `version:` is an exact, case-sensitive match; the filter guards against a registry that matches loosely.
  const find = () =>
    findFirst(
      (p) => api.listArtifactVersions(p),
      { search: searchQuery({ artifact_prn: artifact.prn, version }), order: 'asc', limit: 100 },
      (v) => v.artifact_prn === artifact.prn && v.version === version,
    );
  const { record: artifactVersion, created } = await findOrCreate(find, () =>
    api.createArtifactVersion({
      artifact_prn: artifact.prn,
      version,
      description: options.description ?? null,
      custom_metadata: options.customMetadata ?? null,
    }),
  );
  logger.info(
    `${created ? 'Created' : 'Found'} version ${version} of artifact ${artifact.name}: ${artifactVersion.prn}`,
  );
  return { artifact, artifactVersion, created, artifactCreated };
}

async function ensureArtifact(
  api: ArtifactVersionApi,
  nameOrPrn: string,
  logger: Logger,
): Promise<{ artifact: Artifact; created: boolean }> {
  const value = nameOrPrn.trim();
  if (value.startsWith('prn:') || isPrn(value)) {
    const prn = requirePrn(value, 'artifact', 'artifact');
    try {
      return { artifact: await api.getArtifact(prn), created: false };
    } catch (err) {
      throw notFoundAsInput(
        err,
        'artifact',
        `no artifact ${prn} is visible to this API key; check the PRN and the key's organization`,
      );
    }
  }
  if (value.length === 0) throw new InputError('artifact', 'must be an artifact name or PRN');
  if (value.length > 128)
    throw new InputError('artifact', `a name is at most 128 characters, got ${value.length}`);

  // Oldest first: should a registry ever allow two artifacts of one name, every job still picks the same one.
  const find = () =>
    findFirst(
      (p) => api.listArtifacts(p),
      { search: searchQuery({ name: value }), order: 'asc', limit: 100 },
      (a) => a.name === value,
    );
  const { record, created } = await findOrCreate(find, () =>
    api.createArtifact({ name: value, description: null, custom_metadata: null }),
  );
  logger.info(`${created ? 'Created' : 'Found'} artifact ${value}: ${record.prn}`);
  return { artifact: record, created };
}
