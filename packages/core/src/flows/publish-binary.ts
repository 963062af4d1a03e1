/**
 * The whole release of one file in one process: artifact version → upload → sign. Each part is the flow
 * the separate actions run, so the one-step action and the three-step workflow behave the same.
 */
import type { Dispatcher } from 'undici';
import type { Ed25519KeyPair } from '../keys.js';
import type { Signer } from '../signing/signer.js';
import { silentLogger, type Logger } from '../logger.js';
import type { RetryPolicy } from '../retry.js';
import type { CustomMetadata } from '../types.js';
import type { PublishBinaryApi } from './api.js';
import { ensureArtifactVersion, type EnsuredArtifactVersion } from './artifact-version.js';
import type { SameCommit } from './binary.js';
import { withProvenance, type Provenance } from './provenance.js';
import { resolveSigningKey, signBinary, type SignBinaryResult } from './sign-binary.js';
import { uploadBinary, type UploadBinaryOptions, type UploadBinaryResult } from './upload-binary.js';

export interface PublishBinaryOptions {
  api: PublishBinaryApi;
  artifact: string;
  version: string;
  target: string;
  filePath: string;
  key: Signer | Ed25519KeyPair;
  /** See SignBinaryOptions.alsoSign. */
  alsoSign?: boolean;
  signingKeyPrn?: string;
  /** The binary's description and custom metadata (provenance is merged under the user's keys). */
  description?: string;
  customMetadata?: CustomMetadata;
  provenance?: Provenance;
  partSize?: number;
  concurrency?: number;
  hashingTimeoutMs?: number;
  stallTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** See EnsureBinaryOptions.keepSignedOf. */
  keepSignedOf?: SameCommit;
  logger?: Logger;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  onProgress?: UploadBinaryOptions['onProgress'];
  dispatcher?: Dispatcher;
}

export interface PublishBinaryResult {
  version: EnsuredArtifactVersion;
  upload: UploadBinaryResult;
  sign: SignBinaryResult;
}

export async function publishBinary(options: PublishBinaryOptions): Promise<PublishBinaryResult> {
  const { api } = options;
  const logger = options.logger ?? silentLogger;
  // A key that is not registered fails the job before anything is created or uploaded.
  const signingKey = await logger.group('Signing key', () =>
    resolveSigningKey(api, options.key, options.signingKeyPrn, logger),
  );
  const version = await logger.group(`Artifact version ${options.version}`, () =>
    ensureArtifactVersion({ api, artifact: options.artifact, version: options.version, logger }),
  );
  const upload = await uploadBinary({
    api,
    artifactVersionPrn: version.artifactVersion.prn,
    target: options.target,
    filePath: options.filePath,
    partSize: options.partSize,
    concurrency: options.concurrency,
    description: options.description,
    customMetadata: withProvenance(options.customMetadata, options.provenance),
    hashingTimeoutMs: options.hashingTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs,
    retry: options.retry,
    keepSignedOf: options.keepSignedOf,
    logger,
    signal: options.signal,
    progressIntervalMs: options.progressIntervalMs,
    onProgress: options.onProgress,
    dispatcher: options.dispatcher,
  });
  const sign = await logger.group(`Sign ${upload.binary.prn}`, () =>
    signBinary({
      api,
      binaryPrn: upload.binary.prn,
      key: options.key,
      alsoSign: options.alsoSign,
      signingKey,
      // A kept binary's digest is the registry's (see uploadBinary), so this still guards against another job.
      expectedHash: upload.digest.sha256Hex,
      hashingTimeoutMs: options.hashingTimeoutMs,
      logger,
      signal: options.signal,
    }),
  );
  return { version, upload, sign };
}
