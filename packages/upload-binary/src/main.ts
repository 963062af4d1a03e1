import * as core from '@actions/core';
import { failureMessage, logFailureDetail } from '../../action-common/src/failure.js';
import { writeFailureSummary } from '../../action-common/src/failure-summary.js';
import { run } from './run.js';

run().catch(async (err: unknown) => {
  logFailureDetail(err);
  const message = failureMessage(err);
  await writeFailureSummary('upload-binary', message, err).catch(() => undefined);
  core.setFailed(message);
});
