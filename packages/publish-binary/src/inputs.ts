import * as github from '@actions/github';
import { readAllInputs, type CustomMetadata, type Ed25519KeyPair } from '@peridio-actions/core';
import {
  maskPrivateKeyInput,
  readApiKey,
  readBaseUrl,
  readConcurrency,
  readDescription,
  readFile,
  readHashingTimeout,
  readJsonObject,
  readPartSize,
  readPrivateKey,
  readPrn,
  readRequired,
  readTarget,
  readVersion,
  type ApiInputs,
  type UploadTuning,
} from '../../action-common/src/inputs.js';
import { readBoolean, readIfSignedDiffers, type IfSignedDiffers } from '../../action-common/src/validate.js';

export interface PublishBinaryInputs extends UploadTuning {
  api: ApiInputs;
  artifact: string;
  version: string;
  target: string;
  file: string;
  allowEmpty: boolean;
  key: Ed25519KeyPair;
  signingKeyPrn?: string;
  description?: string;
  customMetadata?: CustomMetadata;
  ifSignedDiffers: IfSignedDiffers;
  dryRun: boolean;
  summary: boolean;
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): PublishBinaryInputs {
  // The key is masked first, before any other input can fail and print something.
  maskPrivateKeyInput('signing-key-private');
  const read = readAllInputs({
    apiKey: readApiKey,
    baseUrl: readBaseUrl,
    artifact: () => readRequired('artifact'),
    version: () => readVersion(github.context.ref),
    target: readTarget,
    file: () => readFile({ allowEmpty: readBoolean('allow-empty', false) }),
    allowEmpty: () => readBoolean('allow-empty', false),
    key: () => readPrivateKey('signing-key-private'),
    signingKeyPrn: () => readPrn('signing-key-prn', 'signing_key'),
    description: () => readDescription(),
    customMetadata: () => readJsonObject('custom-metadata'),
    partSize: readPartSize,
    concurrency: readConcurrency,
    hashingTimeoutMs: readHashingTimeout,
    ifSignedDiffers: readIfSignedDiffers,
    dryRun: () => readBoolean('dry-run', false),
    summary: () => readBoolean('summary', true),
  });
  const { apiKey, baseUrl, ...rest } = read;
  return { api: { apiKey, baseUrl }, ...rest };
}
