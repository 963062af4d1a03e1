import { readAllInputs, type Ed25519KeyPair } from '@peridio-actions/core';
import {
  maskPrivateKeyInput,
  readApiKey,
  readBaseUrl,
  readPrivateKey,
  readPrn,
  type ApiInputs,
} from '../../action-common/src/inputs.js';
import { readBoolean, readExpectedHash } from '../../action-common/src/validate.js';

export interface SignBinaryInputs {
  api: ApiInputs;
  binaryPrn: string;
  key: Ed25519KeyPair;
  signingKeyPrn?: string;
  expectedHash?: string;
  dryRun: boolean;
  summary: boolean;
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): SignBinaryInputs {
  // The key is masked first, before any other input can fail and print something.
  maskPrivateKeyInput('signing-key-private');
  const read = readAllInputs({
    apiKey: readApiKey,
    baseUrl: readBaseUrl,
    binaryPrn: () => readPrn('binary-prn', 'binary', { required: true }),
    key: () => readPrivateKey('signing-key-private'),
    signingKeyPrn: () => readPrn('signing-key-prn', 'signing_key'),
    expectedHash: readExpectedHash,
    dryRun: () => readBoolean('dry-run', false),
    summary: () => readBoolean('summary', true),
  });
  const { apiKey, baseUrl, ...rest } = read;
  return { api: { apiKey, baseUrl }, ...rest };
}
