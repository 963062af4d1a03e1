import { readAllInputs, type SignerConfig } from '@peridio-actions/core';
import { API_READERS, readPrn, withApi, type ApiInputs } from '@peridio-actions/action-common/inputs';
import { signerReader } from '@peridio-actions/action-common/signer-inputs';
import { readBoolean, readExpectedHash } from '@peridio-actions/action-common/validate';

export interface SignBinaryInputs {
  api: ApiInputs;
  binaryPrn: string;
  signer: SignerConfig;
  alsoSign: boolean;
  signingKeyPrn?: string;
  expectedHash?: string;
  dryRun: boolean;
  summary: boolean;
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): SignBinaryInputs {
  // The signer first: its secrets are masked before any other input can fail and print something.
  const readSigner = signerReader();
  const read = readAllInputs({
    ...API_READERS,
    binaryPrn: () => readPrn('binary-prn', 'binary', { required: true }),
    signer: readSigner,
    alsoSign: () => readBoolean('also-sign', false),
    signingKeyPrn: () => readPrn('signing-key-prn', 'signing_key'),
    expectedHash: readExpectedHash,
    dryRun: () => readBoolean('dry-run', false),
    summary: () => readBoolean('summary', true),
  });
  return withApi(read);
}
