import { createBundle } from '@peridio-actions/core';
import { connect } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { setOutputs, writeSummary } from '@peridio-actions/action-common/summary';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const api = await connect(inputs.api, {
    action: 'create-bundle',
    logger,
    probe: (c) => c.listArtifacts({ limit: 1 }),
  });
  const result = await createBundle({ ...inputs, api, logger });
  setOutputs({
    'bundle-prn': result.bundle.prn,
    'bundle-hash': result.bundle.hash,
    binaries: JSON.stringify(
      result.binaries.map(({ target, binary_prn, hash, size }) => ({ target, binary_prn, hash, size })),
    ),
    'bundle-signature-prn': result.signature?.prn ?? '',
    created: result.created,
  });
  await writeSummary(`Bundle ${result.bundle.name ?? result.bundle.prn}`, [
    ['Bundle PRN', result.bundle.prn],
    ['Bundle hash', result.bundle.hash],
    ['Created', result.created ? 'yes' : 'no (it existed)'],
    ...result.binaries.map((b): [string, string] => [
      `${b.target}`,
      `${b.artifact}@${b.version} ${b.binary_prn} sha256 ${b.hash}`,
    ]),
    ['Bundle signature', result.signature?.prn],
  ]);
}
