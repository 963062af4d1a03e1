import type { CustomMetadata } from '@peridio-actions/core';
import {
  readApiInputs,
  readDescription,
  readFile,
  readJsonObject,
  readPrn,
  readTarget,
  readUploadTuning,
  type ApiInputs,
  type UploadTuning,
} from '@peridio-actions/action-common/inputs';

export interface UploadBinaryInputs extends UploadTuning {
  api: ApiInputs;
  artifactVersionPrn: string;
  target: string;
  file: string;
  description?: string;
  customMetadata?: CustomMetadata;
}

export function readInputs(): UploadBinaryInputs {
  return {
    api: readApiInputs(),
    artifactVersionPrn: readPrn('artifact-version-prn', 'artifact_version', { required: true }),
    target: readTarget(),
    file: readFile(),
    ...readUploadTuning(),
    description: readDescription(),
    customMetadata: readJsonObject('custom-metadata'),
  };
}
