import { readAllInputs, type CustomMetadata } from '@peridio-actions/core';
import {
  readApiKey,
  readBaseUrl,
  readConcurrency,
  readDescription,
  readFile,
  readHashingTimeout,
  readJsonObject,
  readPartSize,
  readPrn,
  readTarget,
  type ApiInputs,
  type UploadTuning,
} from '../../action-common/src/inputs.js';
import { readBoolean, readIfSignedDiffers, type IfSignedDiffers } from '../../action-common/src/validate.js';

export interface UploadBinaryInputs extends UploadTuning {
  api: ApiInputs;
  artifactVersionPrn: string;
  target: string;
  file: string;
  allowEmpty: boolean;
  description?: string;
  customMetadata?: CustomMetadata;
  ifSignedDiffers: IfSignedDiffers;
  dryRun: boolean;
  summary: boolean;
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): UploadBinaryInputs {
  const read = readAllInputs({
    apiKey: readApiKey,
    baseUrl: readBaseUrl,
    artifactVersionPrn: () => readPrn('artifact-version-prn', 'artifact_version', { required: true }),
    target: readTarget,
    file: () => readFile({ allowEmpty: readBoolean('allow-empty', false) }),
    allowEmpty: () => readBoolean('allow-empty', false),
    partSize: readPartSize,
    concurrency: readConcurrency,
    description: () => readDescription(),
    customMetadata: () => readJsonObject('custom-metadata'),
    hashingTimeoutMs: readHashingTimeout,
    ifSignedDiffers: readIfSignedDiffers,
    dryRun: () => readBoolean('dry-run', false),
    summary: () => readBoolean('summary', true),
  });
  const { apiKey, baseUrl, ...rest } = read;
  return { api: { apiKey, baseUrl }, ...rest };
}
