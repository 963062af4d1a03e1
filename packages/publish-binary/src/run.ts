import { createSigner, publishBinary } from '@peridio-actions/core';
import { connect, retryOverride } from '../../action-common/src/connect.js';
import { runnerLogger as logger } from '../../action-common/src/logger.js';
import { provenanceFromContext } from '../../action-common/src/provenance.js';
import {
  signOutputs,
  signRows,
  uploadOutputs,
  uploadRows,
  versionOutputs,
} from '../../action-common/src/rows.js';
import { setOutputs, writeSummary } from '../../action-common/src/summary.js';
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
