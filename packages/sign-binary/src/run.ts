import { createSigner, dryRun, signBinary } from '@peridio-actions/core';
import { connect } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { finish, signOutcome } from '@peridio-actions/action-common/outcome';
import { signOutputs, signRows } from '@peridio-actions/action-common/rows';
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
  if (inputs.dryRun) {
    const report = await logger.group('Dry run', () =>
      dryRun({
        api,
        logger,
        key: signer,
        signingKeyPrn: inputs.signingKeyPrn,
        binaryPrn: inputs.binaryPrn,
        expectedHash: inputs.expectedHash,
      }),
    );
    await finish({}, 'dry-run', {
      enabled: inputs.summary,
      title: `Dry run: sign ${inputs.binaryPrn}`,
      rows: report.plan.map((line, i) => [`Step ${i + 1}`, line]),
    });
    return;
  }
  const result = await logger.group(`Sign ${inputs.binaryPrn}`, () =>
    signBinary({
      api,
      binaryPrn: inputs.binaryPrn,
      key: signer,
      alsoSign: inputs.alsoSign,
      signingKeyPrn: inputs.signingKeyPrn,
      expectedHash: inputs.expectedHash,
      expectedHashFrom: 'input',
      logger,
    }),
  );
  await finish(signOutputs(result), signOutcome(result), {
    enabled: inputs.summary,
    title: `Signed ${result.binary.target}`,
    rows: signRows(result, { withBinary: true }),
  });
}
