import { readAllInputs, type CustomMetadata } from '@peridio-actions/core';
import {
  API_READERS,
  readConcurrency,
  readDescription,
  readFile,
  readHashingTimeout,
  readJsonObject,
  readPartSize,
  readPrn,
  readStallTimeout,
  readTarget,
  withApi,
  type ApiInputs,
  type UploadTuning,
} from '@peridio-actions/action-common/inputs';
import {
  readBoolean,
  readIfSignedDiffers,
  type IfSignedDiffers,
} from '@peridio-actions/action-common/validate';

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
    ...API_READERS,
    artifactVersionPrn: () => readPrn('artifact-version-prn', 'artifact_version', { required: true }),
    target: readTarget,
    file: () => readFile({ allowEmpty: readBoolean('allow-empty', false) }),
    allowEmpty: () => readBoolean('allow-empty', false),
    partSize: readPartSize,
    concurrency: readConcurrency,
    description: () => readDescription(),
    customMetadata: () => readJsonObject('custom-metadata'),
    hashingTimeoutMs: readHashingTimeout,
    stallTimeoutMs: readStallTimeout,
    ifSignedDiffers: readIfSignedDiffers,
    dryRun: () => readBoolean('dry-run', false),
    summary: () => readBoolean('summary', true),
  });
  return withApi(read);
}
