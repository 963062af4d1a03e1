import * as core from '@actions/core';
import { failureMessage, logFailureDetail } from '@peridio-actions/action-common/failure';
import { writeFailureSummary } from '@peridio-actions/action-common/failure-summary';
import { run } from './run.js';

run().catch(async (err: unknown) => {
  logFailureDetail(err);
  const message = failureMessage(err);
  await writeFailureSummary('create-artifact-version', message, err).catch(() => undefined);
  core.setFailed(message);
});
