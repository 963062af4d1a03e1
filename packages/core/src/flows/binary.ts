/**
 * Find or create the binary record of one target of an artifact version, for a file of known hash and
 * size. This is what makes a re-run resume: the same content continues from whatever state the record
 * is in; other content replaces an unsigned record, and is refused for a signed one.
 */
import { ConflictError, InputError, notFoundAsInput } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { searchQuery } from '../client/search.js';
import type { Binary, CustomMetadata } from '../types.js';
import { iteratePages } from '../paging.js';
import type { BinaryApi } from './api.js';
import { changeOrReread, findOrCreate } from './race.js';
import { formatBytes } from './format.js';

export interface EnsureBinaryOptions {
  api: BinaryApi;
  artifactVersionPrn: string;
  target: string;
  hash: string;
  size: number;
  /** Used only when this call creates the record. */
  description?: string;
  customMetadata?: CustomMetadata;
  /**
   * The repository and commit of this run, when a target already signed with other content may be kept
   * if its provenance names the same ones (`if-signed-differs: keep-same-commit`): a re-run that rebuilt
   * a non-reproducible file. Undefined: such a target always fails.
   */
  keepSignedOf?: SameCommit;
  logger?: Logger;
}

export interface SameCommit {
  repository: string;
  commit: string;
}

export type EnsureBinaryOutcome = 'created' | 'found' | 'reset' | 'kept-existing';

export interface EnsuredBinary {
  binary: Binary;
  outcome: EnsureBinaryOutcome;
}

export async function ensureBinary(options: EnsureBinaryOptions): Promise<EnsuredBinary> {
  const { api, artifactVersionPrn, target, hash, size } = options;
  const logger = options.logger ?? silentLogger;
  validateTarget(target);

  const found = await findOrCreate(
    () => findByTarget(api, artifactVersionPrn, target, (state) => state !== 'destroyed'),
    async () => {
      // Destroyed binaries stay listed; one for this target means this version's content was revoked.
      const destroyed = await findByTarget(api, artifactVersionPrn, target, (state) => state === 'destroyed');
      if (destroyed) throw destroyedError(destroyed);
      return api.createBinary({
        artifact_version_prn: artifactVersionPrn,
        target,
        hash,
        size,
        description: options.description ?? null,
        custom_metadata: options.customMetadata ?? null,
      });
    },
  );
  const binary = found.record;
  if (found.created) {
    logger.info(`Created binary ${binary.prn} for target ${target}`);
    return { binary, outcome: 'created' };
  }
  if (binary.hash === hash && binary.size === size) {
    logger.info(`Found binary ${binary.prn} for target ${target} with this content, state ${binary.state}`);
    return { binary, outcome: 'found' };
  }
  if (binary.state === 'signed') {
    if (options.keepSignedOf && sameCommit(binary, options.keepSignedOf)) {
      logger.warning(
        `Target '${target}' is already signed (binary ${binary.prn}, sha256 ${binary.hash}) by a run of the same ` +
          `commit ${options.keepSignedOf.commit} of ${options.keepSignedOf.repository}; keeping it. The rebuilt ` +
          `file differs (sha256 ${hash}, ${describeSize(size)}) and was not published.`,
      );
      return { binary, outcome: 'kept-existing' };
    }
    throw new ConflictError(
      `target '${target}' of artifact version ${artifactVersionPrn} is already signed with other content ` +
        `(binary ${binary.prn}: sha256 ${binary.hash}, ${describeSize(binary.size)}${provenanceOf(binary)}); this ` +
        `file is sha256 ${hash}, ${describeSize(size)}. A signed binary is never replaced silently: publish ` +
        `this file as a new version, or check that the right file and target were given. The deliberate way ` +
        `out is to destroy the old binary (PATCH /binaries/${binary.prn} {"state":"destroyed"}), which ` +
        `revokes it for every device.`,
    );
  }
  if (binary.state === 'destroyed') throw destroyedError(binary);

  logger.warning(
    `Binary ${binary.prn} for target ${target} holds other content (sha256 ${binary.hash}, state ` +
      `${binary.state}); resetting it to this file (sha256 ${hash})`,
  );
  // Another job may move the record on (hashing, signed) between our read and our reset.
  return changeOrReread<EnsuredBinary, Binary>(
    async () => {
      // A reset deletes the uploaded parts; hash and size may change only once the record is `uploadable`.
      if (binary.state !== 'uploadable') await api.updateBinary(binary.prn, { state: 'uploadable' });
      const reset = await api.updateBinary(binary.prn, { hash, size });
      return { binary: reset, outcome: 'reset' };
    },
    [409, 422],
    () => api.getBinary(binary.prn),
    (now, refusal) => {
      if (now.hash === hash && now.size === size) return { binary: now, outcome: 'found' };
      throw new ConflictError(
        `target '${target}' of artifact version ${artifactVersionPrn} is being published with other content ` +
          `by another job (binary ${now.prn}: sha256 ${now.hash}, state ${now.state}); this file is sha256 ` +
          `${hash}. The registry refused the reset (${refusal.detail}). Check that only one job publishes this target.`,
        { cause: refusal },
      );
    },
  );
}

export function validateTarget(target: string): void {
  if (target.length === 0) throw new InputError('target', 'must not be empty');
  if (target.length > 128)
    throw new InputError('target', `must be at most 128 characters, got ${target.length}`);
  // Control characters (C0 and DEL) would break log lines and the job summary the target appears in.
  if ([...target].some((c) => c <= '\u001f' || c === '\u007f'))
    throw new InputError('target', 'must not contain control characters');
}

/** The first binary of this version and target whose state `match` accepts. */
async function findByTarget(
  api: BinaryApi,
  artifactVersionPrn: string,
  target: string,
  match: (state: Binary['state']) => boolean,
): Promise<Binary | undefined> {
  for await (const binary of byTarget(api, artifactVersionPrn, target)) {
    if (match(binary.state)) return binary;
  }
  return undefined;
}

async function* byTarget(api: BinaryApi, artifactVersionPrn: string, target: string): AsyncGenerator<Binary> {
  const search = searchQuery({ target, artifact_version_prn: artifactVersionPrn });
  try {
    for await (const binary of iteratePages((p) => api.listBinaries(p), { search, limit: 100 })) {
      if (binary.target === target && binary.artifact_version_prn === artifactVersionPrn) yield binary;
    }
  } catch (err) {
    throw notFoundAsInput(
      err,
      'artifact-version-prn',
      `no artifact version ${artifactVersionPrn} is visible to this API key`,
    );
  }
}

function destroyedError(binary: Binary): ConflictError {
  return new ConflictError(
    `the binary for target '${binary.target}' of artifact version ${binary.artifact_version_prn} ` +
      `(${binary.prn}) was destroyed: its content is deleted for good and cannot be uploaded or signed again. ` +
      `Publish this file as a new version.`,
  );
}

/** The provenance the actions write (custom_metadata repository and commit) names this run's commit. */
function sameCommit(binary: Binary, run: SameCommit): boolean {
  const metadata = binary.custom_metadata as Record<string, unknown> | null | undefined;
  return metadata?.repository === run.repository && metadata?.commit === run.commit;
}

function provenanceOf(binary: Binary): string {
  const metadata = binary.custom_metadata as Record<string, unknown> | null | undefined;
  const commit = typeof metadata?.commit === 'string' ? metadata.commit : undefined;
  const repository = typeof metadata?.repository === 'string' ? metadata.repository : undefined;
  return commit ? `, published from commit ${commit}${repository ? ` of ${repository}` : ''}` : '';
}

function describeSize(size: number | null): string {
  return size === null ? 'unknown size' : `${size} bytes (${formatBytes(size)})`;
}
