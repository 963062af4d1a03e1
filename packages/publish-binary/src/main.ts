import * as core from '@actions/core';
import { failureMessage, logFailureDetail } from '../../action-common/src/failure.js';
import { run } from './run.js';

run().catch((err: unknown) => {
  logFailureDetail(err);
  core.setFailed(failureMessage(err, 'publish-binary'));
});
