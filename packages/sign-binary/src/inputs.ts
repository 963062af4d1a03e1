import type { SignerConfig } from '@peridio-actions/core';
import { readApiInputs, readBoolean, readPrn, type ApiInputs } from '@peridio-actions/action-common/inputs';
import { readSignerInputs } from '@peridio-actions/action-common/signer-inputs';

export interface SignBinaryInputs {
  api: ApiInputs;
  binaryPrn: string;
  signer: SignerConfig;
  signingKeyPrn?: string;
  alsoSign: boolean;
}

export function readInputs(): SignBinaryInputs {
  // The signer first: its secrets are masked before any other input can fail and print something.
  const signer = readSignerInputs();
  return {
    api: readApiInputs(),
    binaryPrn: readPrn('binary-prn', 'binary', { required: true }),
    signer,
    signingKeyPrn: readPrn('signing-key-prn', 'signing_key'),
    alsoSign: readBoolean('also-sign'),
  };
}
