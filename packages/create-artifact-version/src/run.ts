import { dryRun, ensureArtifactVersion } from '@peridio-actions/core';
import { connect } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { finish, versionOutcome } from '@peridio-actions/action-common/outcome';
import { versionOutputs, versionRows } from '@peridio-actions/action-common/rows';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const api = await connect(inputs.api, {
    action: 'create-artifact-version',
    logger,
    probe: (client) => client.listArtifacts({ limit: 1 }),
  });
  if (inputs.dryRun) {
    const report = await logger.group('Dry run', () =>
      dryRun({ api, logger, artifact: inputs.artifact, version: inputs.version }),
    );
    await finish({}, 'dry-run', {
      enabled: inputs.summary,
      title: `Dry run: artifact version ${inputs.version}`,
      rows: report.plan.map((line, i) => [`Step ${i + 1}`, line]),
    });
    return;
  }
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
  await finish(versionOutputs(result), versionOutcome(result), {
    enabled: inputs.summary,
    title: `Artifact version ${result.artifactVersion.version}`,
    rows: versionRows(result),
  });
}
