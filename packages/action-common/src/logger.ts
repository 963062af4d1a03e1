/** The core's Logger onto the runner: log groups, annotations for warnings and errors, debug lines. */
import * as core from '@actions/core';
import type { Logger } from '@peridio-actions/core';

export const runnerLogger: Logger = {
  debug: (message) => core.debug(message),
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
  error: (message) => core.error(message),
  group: (name, fn) => core.group(name, fn),
};
