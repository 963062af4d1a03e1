import { ensureArtifactVersion } from '@peridio-actions/core';
import { connect } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { versionOutputs, versionRows } from '@peridio-actions/action-common/rows';
import { setOutputs, writeSummary } from '@peridio-actions/action-common/summary';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const api = await connect(inputs.api, {
    action: 'create-artifact-version',
    logger,
    probe: (client) => client.listArtifacts({ limit: 1 }),
  });
  const result = await logger.group(`Artifact version ${inputs.version}`, () =>
    ensureArtifactVersion({
      api,
      artifact: inputs.artifact,
      version: inputs.version,
      description: inputs.description,
      customMetadata: inputs.customMetadata,
      logger,
    }),
  );
  setOutputs(versionOutputs(result));
  await writeSummary(`Artifact version ${result.artifactVersion.version}`, versionRows(result));
}
