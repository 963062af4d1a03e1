import * as github from '@actions/github';
import { readAllInputs, type CustomMetadata } from '@peridio-actions/core';
import {
  API_READERS,
  readDescription,
  readJsonObject,
  readRequired,
  readVersion,
  withApi,
  type ApiInputs,
} from '@peridio-actions/action-common/inputs';
import { readBoolean } from '@peridio-actions/action-common/validate';

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
    ...API_READERS,
    artifact: () => readRequired('artifact'),
    version: () => readVersion(github.context.ref),
    description: () => readDescription(),
    customMetadata: () => readJsonObject('custom-metadata'),
    dryRun: () => readBoolean('dry-run', false),
    summary: () => readBoolean('summary', true),
  });
  return withApi(read);
}
