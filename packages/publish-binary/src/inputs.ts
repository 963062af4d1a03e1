import * as github from '@actions/github';
import type { CustomMetadata, Ed25519KeyPair } from '@peridio-actions/core';
import {
  readApiInputs,
  readDescription,
  readFile,
  readJsonObject,
  readPrivateKey,
  readPrn,
  readRequired,
  readTarget,
  readUploadTuning,
  readVersion,
  type ApiInputs,
  type UploadTuning,
} from '@peridio-actions/action-common/inputs';

export interface PublishBinaryInputs extends UploadTuning {
  api: ApiInputs;
  artifact: string;
  version: string;
  target: string;
  file: string;
  key: Ed25519KeyPair;
  signingKeyPrn?: string;
  description?: string;
  customMetadata?: CustomMetadata;
}

export function readInputs(): PublishBinaryInputs {
  // The key first: it is masked before any other input can fail and print something.
  const key = readPrivateKey('signing-key-private');
  return {
    api: readApiInputs(),
    artifact: readRequired('artifact'),
    version: readVersion(github.context.ref),
    target: readTarget(),
    file: readFile(),
    key,
    signingKeyPrn: readPrn('signing-key-prn', 'signing_key'),
    ...readUploadTuning(),
    description: readDescription(),
    customMetadata: readJsonObject('custom-metadata'),
  };
}
