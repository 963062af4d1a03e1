import type { Ed25519KeyPair } from '@peridio-actions/core';
import {
  readApiInputs,
  readPrivateKey,
  readPrn,
  type ApiInputs,
} from '@peridio-actions/action-common/inputs';

export interface SignBinaryInputs {
  api: ApiInputs;
  binaryPrn: string;
  key: Ed25519KeyPair;
  signingKeyPrn?: string;
}

export function readInputs(): SignBinaryInputs {
  // The key first: it is masked before any other input can fail and print something.
  const key = readPrivateKey('signing-key-private');
  return {
    api: readApiInputs(),
    binaryPrn: readPrn('binary-prn', 'binary', { required: true }),
    key,
    signingKeyPrn: readPrn('signing-key-prn', 'signing_key'),
  };
}
