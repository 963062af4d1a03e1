/** The core's Logger onto the runner: log groups, annotations for warnings and errors, debug lines. */
import * as core from '@actions/core';
import type { Logger } from '@peridio-actions/core';
import { recordPhase } from './journal.js';

export const runnerLogger: Logger = {
  debug: (message) => core.debug(message),
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
  error: (message) => core.error(message),
  group: (name, fn) => {
    recordPhase(name);
    return core.group(name, fn);
  },
};
