import * as core from '@actions/core';
import { failureMessage, logFailureDetail } from '@peridio-actions/action-common/failure';
import { run } from './run.js';

run().catch((err: unknown) => {
  logFailureDetail(err);
  core.setFailed(failureMessage(err));
});
