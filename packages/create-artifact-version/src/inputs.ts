import * as github from '@actions/github';
import { readAllInputs, type CustomMetadata } from '@peridio-actions/core';
import {
  readApiKey,
  readBaseUrl,
  readDescription,
  readJsonObject,
  readRequired,
  readVersion,
  type ApiInputs,
} from '../../action-common/src/inputs.js';
import { readBoolean } from '../../action-common/src/validate.js';

export interface CreateArtifactVersionInputs {
  api: ApiInputs;
  artifact: string;
  version: string;
  description?: string;
  customMetadata?: CustomMetadata;
  dryRun: boolean;
  summary: boolean;
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): CreateArtifactVersionInputs {
  const read = readAllInputs({
    apiKey: readApiKey,
    baseUrl: readBaseUrl,
    artifact: () => readRequired('artifact'),
    version: () => readVersion(github.context.ref),
    description: () => readDescription(),
    customMetadata: () => readJsonObject('custom-metadata'),
    dryRun: () => readBoolean('dry-run', false),
    summary: () => readBoolean('summary', true),
  });
  const { apiKey, baseUrl, ...rest } = read;
  return { api: { apiKey, baseUrl }, ...rest };
}
