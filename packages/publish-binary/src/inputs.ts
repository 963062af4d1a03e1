import * as github from '@actions/github';
import { readAllInputs, type CustomMetadata, type SignerConfig } from '@peridio-actions/core';
import {
  API_READERS,
  readConcurrency,
  readDescription,
  readFile,
  readHashingTimeout,
  readJsonObject,
  readPartSize,
  readPrn,
  readRequired,
  readStallTimeout,
  readTarget,
  readVersion,
  withApi,
  type ApiInputs,
  type UploadTuning,
} from '@peridio-actions/action-common/inputs';
import { signerReader } from '@peridio-actions/action-common/signer-inputs';
import {
  readBoolean,
  readIfSignedDiffers,
  type IfSignedDiffers,
} from '@peridio-actions/action-common/validate';

export interface PublishBinaryInputs extends UploadTuning {
  api: ApiInputs;
  artifact: string;
  version: string;
  target: string;
  file: string;
  allowEmpty: boolean;
  signer: SignerConfig;
  alsoSign: boolean;
  signingKeyPrn?: string;
  description?: string;
  customMetadata?: CustomMetadata;
  ifSignedDiffers: IfSignedDiffers;
  dryRun: boolean;
  summary: boolean;
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): PublishBinaryInputs {
  // The signer first: its secrets are masked before any other input can fail and print something.
  const readSigner = signerReader();
  const read = readAllInputs({
    ...API_READERS,
    artifact: () => readRequired('artifact'),
    version: () => readVersion(github.context.ref),
    target: readTarget,
    file: () => readFile({ allowEmpty: readBoolean('allow-empty', false) }),
    allowEmpty: () => readBoolean('allow-empty', false),
    signer: readSigner,
    alsoSign: () => readBoolean('also-sign', false),
    signingKeyPrn: () => readPrn('signing-key-prn', 'signing_key'),
    description: () => readDescription(),
    customMetadata: () => readJsonObject('custom-metadata'),
    partSize: readPartSize,
    concurrency: readConcurrency,
    hashingTimeoutMs: readHashingTimeout,
    stallTimeoutMs: readStallTimeout,
    ifSignedDiffers: readIfSignedDiffers,
    dryRun: () => readBoolean('dry-run', false),
    summary: () => readBoolean('summary', true),
  });
  return withApi(read);
}
