import * as github from '@actions/github';
import type { CustomMetadata, SignerConfig } from '@peridio-actions/core';
import {
  readApiInputs,
  readDescription,
  readFile,
  readJsonObject,
  readBoolean,
  readPrn,
  readRequired,
  readTarget,
  readUploadTuning,
  readVersion,
  type ApiInputs,
  type UploadTuning,
} from '@peridio-actions/action-common/inputs';
import { readSignerInputs } from '@peridio-actions/action-common/signer-inputs';

export interface PublishBinaryInputs extends UploadTuning {
  api: ApiInputs;
  artifact: string;
  version: string;
  target: string;
  file: string;
  signer: SignerConfig;
  alsoSign: boolean;
  signingKeyPrn?: string;
  description?: string;
  customMetadata?: CustomMetadata;
}

export function readInputs(): PublishBinaryInputs {
  // The signer first: its secrets are masked before any other input can fail and print something.
  const signer = readSignerInputs();
  return {
    api: readApiInputs(),
    artifact: readRequired('artifact'),
    version: readVersion(github.context.ref),
    target: readTarget(),
    file: readFile(),
    signer,
    alsoSign: readBoolean('also-sign'),
    signingKeyPrn: readPrn('signing-key-prn', 'signing_key'),
    ...readUploadTuning(),
    description: readDescription(),
    customMetadata: readJsonObject('custom-metadata'),
  };
}
