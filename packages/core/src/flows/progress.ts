/**
 * Progress lines for long phases. A runner log is read after the fact, so one line every few seconds
 * (percent, bytes, rate) says everything a bar would, without flooding the log of a 10 GB upload.
 */
import type { Logger } from '../logger.js';
import { formatBytes, formatRate, percent } from './format.js';

export const PROGRESS_INTERVAL_MS = 5_000;

export interface ProgressLine {
  done: number;
  total: number;
  /** Measured by the caller when it knows better (the upload engine's sliding window); else the average. */
  bytesPerSecond?: number;
  detail?: string;
}

export function throttledProgress(
  logger: Logger,
  label: string,
  options: { intervalMs?: number; now?: () => number } = {},
): (line: ProgressLine) => void {
  const intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const startedAt = now();
  let lastAt = startedAt;
  return ({ done, total, bytesPerSecond, detail }) => {
    const at = now();
    if (at - lastAt < intervalMs || done >= total) return;
    lastAt = at;
    const rate = bytesPerSecond ?? (done * 1000) / Math.max(1, at - startedAt);
    logger.info(
      `${label}: ${percent(done, total)} (${formatBytes(done)} of ${formatBytes(total)}) at ${formatRate(rate)}` +
        (detail ? `, ${detail}` : ''),
    );
  };
}
