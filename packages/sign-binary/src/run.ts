import { createSigner, signBinary } from '@peridio-actions/core';
import { connect } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { signOutputs, signRows } from '@peridio-actions/action-common/rows';
import { setOutputs, writeSummary } from '@peridio-actions/action-common/summary';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  // Reads the public key from a token or checks the command's key before any request.
  const signer = await createSigner(inputs.signer);
  const api = await connect(inputs.api, {
    action: 'sign-binary',
    logger,
    probe: (client) => client.getBinary(inputs.binaryPrn),
  });
  const result = await logger.group(`Sign ${inputs.binaryPrn}`, () =>
    signBinary({
      api,
      binaryPrn: inputs.binaryPrn,
      key: signer,
      alsoSign: inputs.alsoSign,
      signingKeyPrn: inputs.signingKeyPrn,
      logger,
    }),
  );
  setOutputs(signOutputs(result));
  await writeSummary(`Signed ${result.binary.target}`, signRows(result, { withBinary: true }));
}
