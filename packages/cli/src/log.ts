/**
 * The CLI's logger: every line on stderr (stdout is for the result only), secrets masked, and on a
 * terminal a progress bar that log lines clear and redraw around.
 */
import {
  formatBytes,
  formatDuration,
  formatRate,
  redactSecrets,
  type Logger,
  type UploadProgress,
} from '@peridio-actions/core';

export interface CliLogger extends Logger {
  addSecrets(secrets: string[]): void;
  mask(text: string): string;
  /** Draws (or redraws) the progress bar; throttled to ~10 frames a second. */
  progress(p: UploadProgress): void;
  /** Ends the bar's line, if one is drawn. */
  endProgress(): void;
}

export function cliLogger(
  stderr: NodeJS.WritableStream & { columns?: number },
  options: { verbose: boolean; now?: () => number },
): CliLogger {
  const secrets: string[] = [];
  const now = options.now ?? Date.now;
  let bar = '';
  let lastDraw = 0;
  let startedAt: number | undefined;
  const mask = (text: string) => redactSecrets(text, secrets);
  const write = (line: string) => {
    if (bar) stderr.write('\r\x1b[2K');
    stderr.write(`${mask(line)}\n`);
    if (bar) stderr.write(bar);
  };
  return {
    addSecrets: (more) => void secrets.push(...more.filter((s) => s.trim().length > 0)),
    mask,
    debug: (message) => (options.verbose ? write(`debug: ${message}`) : undefined),
    info: (message) => write(message),
    warning: (message) => write(`warning: ${message}`),
    error: (message) => write(`error: ${message}`),
    async group(name, fn) {
      if (options.verbose) write(`==> ${name}`);
      return fn();
    },
    progress(p) {
      const at = now();
      startedAt ??= at;
      const finished = p.bytesToSend > 0 && p.bytesSent >= p.bytesToSend;
      if (!finished && at - lastDraw < 100) return;
      lastDraw = at;
      bar = progressBar(p, at - startedAt, stderr.columns ?? 80);
      stderr.write(`\r\x1b[2K${bar}`);
    },
    endProgress() {
      if (!bar) return;
      stderr.write('\n');
      bar = '';
      startedAt = undefined;
    },
  };
}

/** `[#########-----------]  45%  45.0 MiB / 100 MiB  12.3 MiB/s  0:04 left` */
export function progressBar(p: UploadProgress, elapsedMs: number, columns: number): string {
  const fraction = p.bytesToSend > 0 ? Math.min(1, p.bytesSent / p.bytesToSend) : 1;
  const rate = p.bytesPerSecond > 0 ? p.bytesPerSecond : elapsedMs > 0 ? (p.bytesSent * 1000) / elapsedMs : 0;
  const left = rate > 0 ? ((p.bytesToSend - p.bytesSent) * 1000) / rate : undefined;
  const text =
    `${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(p.bytesSent)} / ${formatBytes(p.bytesToSend)}` +
    `  ${formatRate(rate)}  ${left === undefined ? '--' : formatDuration(left)} left`;
  const width = Math.max(10, Math.min(30, columns - text.length - 4));
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`;
}
