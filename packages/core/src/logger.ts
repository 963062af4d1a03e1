/**
 * Every side effect that reports goes through a Logger passed in by the caller, so the action can map
 * it onto @actions/core, the registry onto stderr, and tests can record it.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** Groups the log lines of one phase (a runner log group). Must return fn's result. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warning() {},
  error() {},
  group: (_name, fn) => fn(),
};

/** A logger that keeps every line, for tests that assert on what was logged. */
export function memoryLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    debug: (message) => void lines.push({ level: 'debug', message }),
    info: (message) => void lines.push({ level: 'info', message }),
    warning: (message) => void lines.push({ level: 'warning', message }),
    error: (message) => void lines.push({ level: 'error', message }),
    async group(name, fn) {
      lines.push({ level: 'group', message: name });
      try {
        return await fn();
      } finally {
        lines.push({ level: 'endgroup', message: name });
      }
    },
  };
}
