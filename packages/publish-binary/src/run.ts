import { createSigner, dryRun, publishBinary } from '@peridio-actions/core';
import { connect, retryOverride } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { finish, publishOutcome } from '@peridio-actions/action-common/outcome';
import { provenanceFromContext, sameCommitOf } from '@peridio-actions/action-common/provenance';
import {
  signOutputs,
  signRows,
  uploadOutputs,
  uploadRows,
  versionOutputs,
} from '@peridio-actions/action-common/rows';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const signer = await createSigner(inputs.signer);
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
        key: signer,
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
    key: signer,
    alsoSign: inputs.alsoSign,
    signingKeyPrn: inputs.signingKeyPrn,
    description: inputs.description,
    customMetadata: inputs.customMetadata,
    provenance,
    partSize: inputs.partSize,
    concurrency: inputs.concurrency,
    hashingTimeoutMs: inputs.hashingTimeoutMs,
    stallTimeoutMs: inputs.stallTimeoutMs,
    retry: retryOverride(),
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
