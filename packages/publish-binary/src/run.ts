import { createSigner, publishBinary } from '@peridio-actions/core';
import { connect, retryOverride } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { provenanceFromContext } from '@peridio-actions/action-common/provenance';
import {
  signOutputs,
  signRows,
  uploadOutputs,
  uploadRows,
  versionOutputs,
} from '@peridio-actions/action-common/rows';
import { setOutputs, writeSummary } from '@peridio-actions/action-common/summary';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const signer = await createSigner(inputs.signer);
  const api = await connect(inputs.api, {
    action: 'publish-binary',
    logger,
    probe: (client) => client.listArtifacts({ limit: 1 }),
  });
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
    provenance: provenanceFromContext(),
    partSize: inputs.partSize,
    concurrency: inputs.concurrency,
    hashingTimeoutMs: inputs.hashingTimeoutMs,
    stallTimeoutMs: inputs.stallTimeoutMs,
    retry: retryOverride(),
    logger,
  });
  // The binary's final state is the signing step's.
  setOutputs({
    ...versionOutputs(result.version),
    ...uploadOutputs(result.upload),
    ...signOutputs(result.sign),
  });
  await writeSummary(`Published ${result.upload.binary.target} ${result.version.artifactVersion.version}`, [
    ['Artifact', result.version.artifact.name],
    ...uploadRows(result.upload),
    ...signRows(result.sign),
    ['Artifact PRN', result.version.artifact.prn],
  ]);
}
