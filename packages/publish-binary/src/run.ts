import { dryRun, publishBinary } from '@peridio-actions/core';
import { connect } from '../../action-common/src/connect.js';
import { runnerLogger as logger } from '../../action-common/src/logger.js';
import { finish, publishOutcome } from '../../action-common/src/outcome.js';
import { provenanceFromContext, sameCommitOf } from '../../action-common/src/provenance.js';
import {
  signOutputs,
  signRows,
  uploadOutputs,
  uploadRows,
  versionOutputs,
} from '../../action-common/src/rows.js';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const api = await connect(inputs.api, {
    action: 'publish-binary',
    logger,
    probe: (client) => client.listArtifacts({ limit: 1 }),
  });
  const provenance = provenanceFromContext();
  const keepSignedOf = inputs.ifSignedDiffers === 'keep-same-commit' ? sameCommitOf(provenance) : undefined;
  if (inputs.dryRun) {
    const report = await logger.group('Dry run', () =>
      dryRun({
        api,
        logger,
        artifact: inputs.artifact,
        version: inputs.version,
        target: inputs.target,
        filePath: inputs.file,
        keepSignedOf,
        key: inputs.key,
        signingKeyPrn: inputs.signingKeyPrn,
      }),
    );
    await finish({}, 'dry-run', {
      enabled: inputs.summary,
      title: `Dry run: publish ${inputs.target} ${inputs.version}`,
      rows: report.plan.map((line, i) => [`Step ${i + 1}`, line]),
    });
    return;
  }
  const result = await publishBinary({
    api,
    artifact: inputs.artifact,
    version: inputs.version,
    target: inputs.target,
    filePath: inputs.file,
    key: inputs.key,
    signingKeyPrn: inputs.signingKeyPrn,
    description: inputs.description,
    customMetadata: inputs.customMetadata,
    provenance,
    partSize: inputs.partSize,
    concurrency: inputs.concurrency,
    hashingTimeoutMs: inputs.hashingTimeoutMs,
    keepSignedOf,
    logger,
  });
  // The binary's final state is the signing step's.
  await finish(
    { ...versionOutputs(result.version), ...uploadOutputs(result.upload), ...signOutputs(result.sign) },
    publishOutcome(result.upload, result.sign),
    {
      enabled: inputs.summary,
      title: `Published ${result.upload.binary.target} ${result.version.artifactVersion.version}`,
      rows: [
        ['Artifact', result.version.artifact.name],
        ...uploadRows(result.upload),
        ...signRows(result.sign),
        ['Artifact PRN', result.version.artifact.prn],
      ],
    },
  );
}
