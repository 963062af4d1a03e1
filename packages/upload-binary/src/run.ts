import { dryRun, uploadBinary, withProvenance } from '@peridio-actions/core';
import { connect } from '../../action-common/src/connect.js';
import { runnerLogger as logger } from '../../action-common/src/logger.js';
import { finish, uploadOutcome } from '../../action-common/src/outcome.js';
import { provenanceFromContext, sameCommitOf } from '../../action-common/src/provenance.js';
import { uploadOutputs, uploadRows } from '../../action-common/src/rows.js';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const api = await connect(inputs.api, {
    action: 'upload-binary',
    logger,
    probe: (client) => client.getArtifactVersion(inputs.artifactVersionPrn),
  });
  const provenance = provenanceFromContext();
  const keepSignedOf = inputs.ifSignedDiffers === 'keep-same-commit' ? sameCommitOf(provenance) : undefined;
  if (inputs.dryRun) {
    const report = await logger.group('Dry run', () =>
      dryRun({
        api,
        logger,
        artifactVersionPrn: inputs.artifactVersionPrn,
        target: inputs.target,
        filePath: inputs.file,
        keepSignedOf,
      }),
    );
    await finish({}, 'dry-run', {
      enabled: inputs.summary,
      title: `Dry run: upload ${inputs.target}`,
      rows: report.plan.map((line, i) => [`Step ${i + 1}`, line]),
    });
    return;
  }
  const result = await uploadBinary({
    api,
    artifactVersionPrn: inputs.artifactVersionPrn,
    target: inputs.target,
    filePath: inputs.file,
    partSize: inputs.partSize,
    concurrency: inputs.concurrency,
    hashingTimeoutMs: inputs.hashingTimeoutMs,
    description: inputs.description,
    customMetadata: withProvenance(inputs.customMetadata, provenance),
    keepSignedOf,
    logger,
  });
  await finish(uploadOutputs(result), uploadOutcome(result), {
    enabled: inputs.summary,
    title: `Uploaded ${result.binary.target} ${result.artifactVersion.version}`,
    rows: [...uploadRows(result), ['State', result.binary.state]],
  });
}
