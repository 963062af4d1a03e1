import { uploadBinary, withProvenance } from '@peridio-actions/core';
import { connect, retryOverride } from '../../action-common/src/connect.js';
import { runnerLogger as logger } from '../../action-common/src/logger.js';
import { provenanceFromContext } from '../../action-common/src/provenance.js';
import { uploadOutputs, uploadRows } from '../../action-common/src/rows.js';
import { setOutputs, writeSummary } from '../../action-common/src/summary.js';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const api = await connect(inputs.api, {
    action: 'upload-binary',
    logger,
    probe: (client) => client.getArtifactVersion(inputs.artifactVersionPrn),
  });
  const result = await uploadBinary({
    api,
    artifactVersionPrn: inputs.artifactVersionPrn,
    target: inputs.target,
    filePath: inputs.file,
    partSize: inputs.partSize,
    concurrency: inputs.concurrency,
    hashingTimeoutMs: inputs.hashingTimeoutMs,
    stallTimeoutMs: inputs.stallTimeoutMs,
    retry: retryOverride(),
    description: inputs.description,
    customMetadata: withProvenance(inputs.customMetadata, provenanceFromContext()),
    logger,
  });
  setOutputs(uploadOutputs(result));
  await writeSummary(`Uploaded ${result.binary.target} ${result.artifactVersion.version}`, [
    ...uploadRows(result),
    ['State', result.binary.state],
  ]);
}
