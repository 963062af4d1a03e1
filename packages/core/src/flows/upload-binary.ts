/**
 * Steps 2–4 of a release for one file: hash it, find or create its binary record, upload the parts the
 * registry does not hold yet, and wait until the registry has verified the content (`signable`).
 * Each step starts from the record's state, so a re-run of a job that died anywhere resumes there, and a
 * re-run of a finished job sends nothing.
 */
import { basename } from 'node:path';
import type { Dispatcher } from 'undici';
import { ApiError, ConflictError, notFoundAsInput, PeridioError } from '../errors.js';
import type { FileDigest } from '../hash.js';
import { silentLogger, type Logger } from '../logger.js';
import { MIN_PART_SIZE } from '../parts.js';
import { requirePrn } from '../prn.js';
import type { RetryPolicy } from '../retry.js';
import type { ArtifactVersion, Binary, CustomMetadata } from '../types.js';
import {
  ExtraPartsError,
  IncompleteUploadError,
  uploadParts,
  type UploadProgress,
} from '../upload/engine.js';
import type { UploadBinaryApi } from './api.js';
import { ensureBinary, type EnsureBinaryOutcome, type SameCommit } from './binary.js';
import { formatBytes, formatRate } from './format.js';
import { hashForUpload } from './hash-step.js';
import { throttledProgress } from './progress.js';
import { changeOrReread } from './race.js';
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
  /** A part upload with no progress for this long is dropped and retried (default 60 s). */
  stallTimeoutMs?: number;
  /** Retry policy of the part uploads (the API client has its own). */
  retry?: Partial<RetryPolicy>;
  /** See EnsureBinaryOptions.keepSignedOf. */
  keepSignedOf?: SameCommit;
  logger?: Logger;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  /** Every progress update of the upload, unthrottled (a terminal's progress bar). */
  onProgress?: (p: UploadProgress) => void;
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
  const { binary, outcome } = await logger.group(`Binary record for target ${target}`, () =>
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
  const run: Run = {
    options,
    logger,
    digest,
    binary,
    plannedDigest: digest,
    reuploads: 0,
    totals: { partsUploaded: 0, partsSkipped: 0, bytesUploaded: 0, uploadDurationMs: 0 },
    partsSkippedKnown: false,
  };
  const done = await untilSignable(run);
  return { artifactVersion, binary: run.binary, digest, outcome, initialState, ...done };
}

/** What the steps share: the record as last seen, and what this run has sent so far. */
interface Run {
  options: UploadBinaryOptions;
  logger: Logger;
  /** Of the file at the default (or given) part size: what the record must hold. */
  digest: FileDigest;
  binary: Binary;
  /** The digest the parts were last planned with (another part size when resuming an earlier run's parts). */
  plannedDigest: FileDigest;
  reuploads: number;
  totals: { partsUploaded: number; partsSkipped: number; bytesUploaded: number; uploadDurationMs: number };
  partsSkippedKnown: boolean;
}

type Totals = Run['totals'] & { bytesPerSecond: number };

/** Moves the record one step at a time until it is signable; an interference sends it back to the record. */
async function untilSignable(run: Run): Promise<Totals> {
  const { api } = run.options;
  // Each pass moves the record one step; the bound only guards against a registry that never settles.
  let interferences = 0;
  for (let step = 0; step < 20; step++) {
    try {
      const done = await stepOnce(run);
      if (done) return done;
    } catch (err) {
      if (!isInterference(err)) throw err;
      const current = await api.getBinary(run.binary.prn);
      assertOwnContent(current, run.digest, run.options.target);
      if (++interferences > MAX_INTERFERENCES) throw err;
      run.logger.warning(
        `Binary ${run.binary.prn} changed under this job (${(err as Error).message}); continuing from its state ${current.state}`,
      );
      run.binary = current;
    }
  }
  throw new PeridioError(`binary ${run.binary.prn} did not reach signable (last state ${run.binary.state})`);
}

/** The step the record's state calls for; the totals once it is signable. */
async function stepOnce(run: Run): Promise<Totals | undefined> {
  const { binary } = run;
  switch (binary.state) {
    case 'uploadable':
      await uploadStep(run);
      return undefined;
    case 'hashable':
    case 'hashing':
      await verifyStep(run);
      return undefined;
    case 'signable':
    case 'signed':
      return finished(run);
    case 'destroyed':
      throw new ConflictError(`binary ${binary.prn} was destroyed while this job ran; publish a new version`);
  }
}

/** Sends the parts the registry lacks, then asks it to check the content (`hashable`). */
async function uploadStep(run: Run): Promise<void> {
  const { options, logger, totals } = run;
  const result = await logger.group(
    `Upload ${formatBytes(run.digest.size)} to ${run.binary.prn}`,
    async () => {
      const sent = await uploadResumingGeometry(options, run.binary, run.plannedDigest, logger);
      run.plannedDigest = sent.digest;
      run.binary = await moveTo(options.api, run.binary, 'hashable', logger);
      return sent.result;
    },
  );
  totals.partsUploaded += result.partsUploaded;
  // The first upload saw what an earlier run left; a re-upload after a failed check starts from nothing.
  if (!run.partsSkippedKnown) totals.partsSkipped = result.partsSkipped;
  run.partsSkippedKnown = true;
  totals.bytesUploaded += result.bytesUploaded;
  totals.uploadDurationMs += result.durationMs;
}

/** Starts the registry's hash check and waits for its verdict; a failed check allows one re-upload. */
async function verifyStep(run: Run): Promise<void> {
  const { options, logger, digest } = run;
  run.binary = await logger.group('Registry verification', async () => {
    let binary = run.binary;
    if (binary.state === 'hashable') binary = await moveTo(options.api, binary, 'hashing', logger);
    if (binary.state !== 'hashing') return binary;
    return waitWhileHashing({
      api: options.api,
      binaryPrn: binary.prn,
      timeoutMs: options.hashingTimeoutMs,
      logger,
      signal: options.signal,
    });
  });
  if (run.binary.state !== 'uploadable') return;
  assertOwnContent(run.binary, digest, options.target);
  const reason = (run.binary as Binary & { hash_error?: string }).hash_error;
  const because = reason ? ` (${reason})` : '';
  if (run.reuploads >= MAX_REUPLOADS) {
    throw new ConflictError(
      `the registry rejected the uploaded content of ${run.binary.prn} again${because}; ` +
        `its SHA-256 does not match ${digest.sha256Hex}. Check that nothing modifies the file during the upload.`,
    );
  }
  run.reuploads += 1;
  logger.warning(`The registry's hash check failed${because} and it discarded the parts; uploading again`);
}

function finished(run: Run): Totals {
  const { binary, totals } = run;
  assertOwnContent(binary, run.digest, run.options.target);
  if (!run.partsSkippedKnown) totals.partsSkipped = run.plannedDigest.parts.length;
  const bytesPerSecond =
    totals.uploadDurationMs > 0 ? Math.round((totals.bytesUploaded * 1000) / totals.uploadDurationMs) : 0;
  run.logger.info(
    `Binary ${binary.prn} is ${binary.state}: ${totals.partsUploaded} parts sent, ${totals.partsSkipped} already there` +
      (totals.bytesUploaded > 0
        ? `, ${formatBytes(totals.bytesUploaded)} at ${formatRate(bytesPerSecond)}`
        : ''),
  );
  return { ...totals, bytesPerSecond };
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
    throw notFoundAsInput(
      err,
      'artifact-version-prn',
      `no artifact version ${prn} is visible to this API key`,
    );
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
      stallTimeoutMs: options.stallTimeoutMs,
      retry: options.retry,
      signal: options.signal,
      logger,
      dispatcher: options.dispatcher,
      onProgress: (p) => {
        options.onProgress?.(p);
        progress({
          done: p.bytesSent,
          total: p.bytesToSend,
          bytesPerSecond: p.bytesPerSecond,
          detail: `${p.partsDone}/${p.partsToSend} parts`,
        });
      },
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
  return changeOrReread(
    async () => {
      const moved = await api.updateBinary(binary.prn, { state });
      logger.info(`Binary ${binary.prn}: ${binary.state} → ${moved.state}`);
      return moved;
    },
    [422],
    () => api.getBinary(binary.prn),
    (current) => {
      if (current.state === binary.state) return undefined;
      logger.info(`Binary ${binary.prn} is already ${current.state}`);
      return current;
    },
  );
}
