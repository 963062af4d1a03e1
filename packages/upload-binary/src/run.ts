import { uploadBinary, withProvenance } from '@peridio-actions/core';
import { connect, retryOverride } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { provenanceFromContext } from '@peridio-actions/action-common/provenance';
import { uploadOutputs, uploadRows } from '@peridio-actions/action-common/rows';
import { setOutputs, writeSummary } from '@peridio-actions/action-common/summary';
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
