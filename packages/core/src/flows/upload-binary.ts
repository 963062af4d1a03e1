/**
 * Steps 2–4 of a release for one file: hash it, find or create its binary record, upload the parts the
 * registry does not hold yet, and wait until the registry has verified the content (`signable`).
 * Each step starts from the record's state, so a re-run of a job that died anywhere resumes there, and a
 * re-run of a finished job sends nothing.
 */
import { basename } from 'node:path';
import type { Dispatcher } from 'undici';
import { ApiError, ConflictError, InputError, PeridioError } from '../errors.js';
import type { FileDigest } from '../hash.js';
import { silentLogger, type Logger } from '../logger.js';
import { MIN_PART_SIZE } from '../parts.js';
import { requirePrn } from '../prn.js';
import type { ArtifactVersion, Binary, CustomMetadata } from '../types.js';
import { ExtraPartsError, IncompleteUploadError, uploadParts } from '../upload.js';
import type { UploadBinaryApi } from './api.js';
import { ensureBinary, type EnsureBinaryOutcome, type SameCommit } from './binary.js';
import { formatBytes, formatRate } from './format.js';
import { hashForUpload } from './hash-step.js';
import { throttledProgress } from './progress.js';
import { waitWhileHashing } from './wait.js';

export interface UploadBinaryOptions {
  api: UploadBinaryApi;
  artifactVersionPrn: string;
  target: string;
  filePath: string;
  partSize?: number;
  concurrency?: number;
  description?: string;
  customMetadata?: CustomMetadata;
  hashingTimeoutMs?: number;
  /** See EnsureBinaryOptions.keepSignedOf. */
  keepSignedOf?: SameCommit;
  logger?: Logger;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  dispatcher?: Dispatcher;
}

export interface UploadBinaryResult {
  artifactVersion: ArtifactVersion;
  binary: Binary;
  digest: FileDigest;
  outcome: EnsureBinaryOutcome;
  /** The record's state when this run found it (`created` records start `uploadable`). */
  initialState: Binary['state'];
  partsUploaded: number;
  partsSkipped: number;
  bytesUploaded: number;
  /** Of the bytes this run sent; 0 when nothing was sent. */
  bytesPerSecond: number;
  uploadDurationMs: number;
}

/** The registry rejected its own hash check once; a second failure means the problem is not in transit. */
const MAX_REUPLOADS = 1;

/**
 * Another job of the same release (same artifact version and target, other content) may reset the record
 * while this one uploads: its parts vanish, its URLs are refused, its state changes fail. Each time, the
 * record decides: if it now holds the other job's content, this job stops with a ConflictError and leaves
 * the target to the other one; if it still holds ours, the step starts again from the record's state.
 */
const MAX_INTERFERENCES = 3;

export async function uploadBinary(options: UploadBinaryOptions): Promise<UploadBinaryResult> {
  const { api, target, filePath } = options;
  const logger = options.logger ?? silentLogger;
  const artifactVersionPrn = requirePrn(
    options.artifactVersionPrn,
    'artifact_version',
    'artifact-version-prn',
  );
  const artifactVersion = await getArtifactVersion(api, artifactVersionPrn);

  const digest = await logger.group(`Hash ${basename(filePath)}`, () => hashForUpload(options, logger));

  let { binary, outcome } = await logger.group(`Binary record for target ${target}`, () =>
    ensureBinary({
      api,
      artifactVersionPrn,
      target,
      hash: digest.sha256Hex,
      size: digest.size,
      description: options.description,
      customMetadata: options.customMetadata,
      keepSignedOf: options.keepSignedOf,
      logger,
    }),
  );
  const initialState = binary.state;
  if (outcome === 'kept-existing') {
    // Outputs describe the binary that stays published, not the rebuilt file.
    const kept = { ...digest, sha256Hex: binary.hash ?? digest.sha256Hex, size: binary.size ?? digest.size };
    return {
      artifactVersion,
      binary,
      digest: kept,
      outcome,
      initialState,
      partsUploaded: 0,
      partsSkipped: 0,
      bytesUploaded: 0,
      bytesPerSecond: 0,
      uploadDurationMs: 0,
    };
  }

  const totals = { partsUploaded: 0, partsSkipped: 0, bytesUploaded: 0, uploadDurationMs: 0 };
  let partsSkippedKnown = false;
  let reuploads = 0;
  let plannedDigest = digest;
  // Each pass moves the record one step; the bound only guards against a registry that never settles.
  let interferences = 0;
  for (let step = 0; step < 20; step++) {
    try {
      switch (binary.state) {
        case 'uploadable': {
          const result = await logger.group(
            `Upload ${formatBytes(digest.size)} to ${binary.prn}`,
            async () => {
              const sent = await uploadResumingGeometry(options, binary, plannedDigest, logger);
              plannedDigest = sent.digest;
              binary = await moveTo(api, binary, 'hashable', logger);
              return sent.result;
            },
          );
          totals.partsUploaded += result.partsUploaded;
          if (!partsSkippedKnown) totals.partsSkipped = result.partsSkipped;
          partsSkippedKnown = true;
          totals.bytesUploaded += result.bytesUploaded;
          totals.uploadDurationMs += result.durationMs;
          break;
        }
        case 'hashable':
        case 'hashing': {
          binary = await logger.group('Registry verification', async () => {
            if (binary.state === 'hashable') binary = await moveTo(api, binary, 'hashing', logger);
            if (binary.state !== 'hashing') return binary;
            return waitWhileHashing({
              api,
              binaryPrn: binary.prn,
              timeoutMs: options.hashingTimeoutMs,
              logger,
              signal: options.signal,
            });
          });
          if (binary.state === 'uploadable') {
            assertOwnContent(binary, digest, target);
            const reason = (binary as Binary & { hash_error?: string }).hash_error;
            if (reuploads >= MAX_REUPLOADS) {
              throw new ConflictError(
                `the registry rejected the uploaded content of ${binary.prn} again${reason ? ` (${reason})` : ''}; ` +
                  `its SHA-256 does not match ${digest.sha256Hex}. Check that nothing modifies the file during the upload.`,
              );
            }
            reuploads += 1;
            logger.warning(
              `The registry's hash check failed${reason ? ` (${reason})` : ''} and it discarded the parts; uploading again`,
            );
          }
          break;
        }
        case 'signable':
        case 'signed': {
          assertOwnContent(binary, digest, target);
          if (!partsSkippedKnown) totals.partsSkipped = plannedDigest.parts.length;
          const bytesPerSecond =
            totals.uploadDurationMs > 0
              ? Math.round((totals.bytesUploaded * 1000) / totals.uploadDurationMs)
              : 0;
          logger.info(
            `Binary ${binary.prn} is ${binary.state}: ${totals.partsUploaded} parts sent, ${totals.partsSkipped} already there` +
              (totals.bytesUploaded > 0
                ? `, ${formatBytes(totals.bytesUploaded)} at ${formatRate(bytesPerSecond)}`
                : ''),
          );
          return { artifactVersion, binary, digest, outcome, initialState, ...totals, bytesPerSecond };
        }
        case 'destroyed':
          throw new ConflictError(
            `binary ${binary.prn} was destroyed while this job ran; publish a new version`,
          );
      }
    } catch (err) {
      if (!isInterference(err)) throw err;
      const current = await api.getBinary(binary.prn);
      assertOwnContent(current, digest, target);
      if (++interferences > MAX_INTERFERENCES) throw err;
      logger.warning(
        `Binary ${binary.prn} changed under this job (${(err as Error).message}); continuing from its state ${current.state}`,
      );
      binary = current;
    }
  }
  throw new PeridioError(`binary ${binary.prn} did not reach signable (last state ${binary.state})`);
}

/** What a concurrent reset of the record looks like from here: refused URLs, vanished parts, failed moves. */
function isInterference(err: unknown): boolean {
  return (
    (err instanceof ApiError && [403, 409, 422].includes(err.status)) || err instanceof IncompleteUploadError
  );
}

function assertOwnContent(binary: Binary, digest: FileDigest, target: string): void {
  if (binary.hash === digest.sha256Hex && binary.size === digest.size) return;
  throw new ConflictError(
    `another job is publishing other content for target '${target}' of this artifact version: binary ` +
      `${binary.prn} now holds sha256 ${binary.hash} (${binary.size} bytes), this job's file is sha256 ` +
      `${digest.sha256Hex} (${digest.size} bytes). This job stops and leaves the target to the other one; ` +
      `check that each job of the matrix publishes its own target, or publish this file as a new version.`,
  );
}

async function getArtifactVersion(api: UploadBinaryApi, prn: string): Promise<ArtifactVersion> {
  try {
    return await api.getArtifactVersion(prn);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      throw new InputError('artifact-version-prn', `no artifact version ${prn} is visible to this API key`);
    }
    throw err;
  }
}

/**
 * Parts left by an earlier run with a smaller part size cannot be deleted one by one, and the binary is
 * `uploadable`, which has no reset. Continuing with the part size the registry already holds keeps
 * the parts that match and overwrites the rest, at the price of hashing the file once more.
 */
async function uploadResumingGeometry(
  options: UploadBinaryOptions,
  binary: Binary,
  digest: FileDigest,
  logger: Logger,
): Promise<{ result: Awaited<ReturnType<typeof uploadParts>>; digest: FileDigest }> {
  const send = (d: FileDigest) => {
    const progress = throttledProgress(logger, 'Uploading', { intervalMs: options.progressIntervalMs });
    return uploadParts({
      api: options.api,
      binaryPrn: binary.prn,
      binarySize: binary.size ?? d.size,
      filePath: options.filePath,
      digest: d,
      concurrency: options.concurrency,
      signal: options.signal,
      logger,
      dispatcher: options.dispatcher,
      onProgress: (p) =>
        progress({
          done: p.bytesSent,
          total: p.bytesToSend,
          bytesPerSecond: p.bytesPerSecond,
          detail: `${p.partsDone}/${p.partsToSend} parts`,
        }),
    });
  };
  try {
    return { result: await send(digest), digest };
  } catch (err) {
    if (!(err instanceof ExtraPartsError) || !err.serverPartSize || err.serverPartSize < MIN_PART_SIZE)
      throw err;
    logger.warning(
      `The registry holds parts of ${formatBytes(err.serverPartSize)} from an earlier run; continuing with that part size`,
    );
    const again = await hashForUpload(options, logger, err.serverPartSize);
    return { result: await send(again), digest: again };
  }
}

/**
 * One state step. A 422 may mean another run of this job moved the record first (a re-run racing a
 * straggler); the record's actual state decides what comes next.
 */
async function moveTo(
  api: UploadBinaryApi,
  binary: Binary,
  state: 'hashable' | 'hashing',
  logger: Logger,
): Promise<Binary> {
  try {
    const moved = await api.updateBinary(binary.prn, { state });
    logger.info(`Binary ${binary.prn}: ${binary.state} → ${moved.state}`);
    return moved;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 422) throw err;
    const current = await api.getBinary(binary.prn);
    if (current.state === binary.state) throw err;
    logger.info(`Binary ${binary.prn} is already ${current.state}`);
    return current;
  }
}
