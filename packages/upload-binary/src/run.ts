import { dryRun, uploadBinary, withProvenance } from '@peridio-actions/core';
import { connect, retryOverride } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { finish, uploadOutcome } from '@peridio-actions/action-common/outcome';
import { provenanceFromContext, sameCommitOf } from '@peridio-actions/action-common/provenance';
import { uploadOutputs, uploadRows } from '@peridio-actions/action-common/rows';
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
    stallTimeoutMs: inputs.stallTimeoutMs,
    retry: retryOverride(),
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
