import { dryRun, signBinary } from '@peridio-actions/core';
import { connect } from '../../action-common/src/connect.js';
import { runnerLogger as logger } from '../../action-common/src/logger.js';
import { finish, signOutcome } from '../../action-common/src/outcome.js';
import { signOutputs, signRows } from '../../action-common/src/rows.js';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
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
        key: inputs.key,
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
      key: inputs.key,
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
