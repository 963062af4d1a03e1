import * as github from '@actions/github';
import type { CustomMetadata } from '@peridio-actions/core';
import {
  readApiInputs,
  readDescription,
  readJsonObject,
  readRequired,
  readVersion,
  type ApiInputs,
} from '@peridio-actions/action-common/inputs';

export interface CreateArtifactVersionInputs {
  api: ApiInputs;
  artifact: string;
  version: string;
  description?: string;
  customMetadata?: CustomMetadata;
}

export function readInputs(): CreateArtifactVersionInputs {
  return {
    api: readApiInputs(),
    artifact: readRequired('artifact'),
    version: readVersion(github.context.ref),
    description: readDescription(),
    customMetadata: readJsonObject('custom-metadata'),
  };
}
