/**
 * Waiting for the registry's own hash check (`hashing` → `signable`). Peridio's CLI polls every 10 s for
 * at most 5 minutes; a small binary on a local registry is done in milliseconds, a large one on the cloud
 * may take longer than 5 minutes. So: poll soon, back off to a cap, and stop at a deadline the user sets.
 * The delay follows the time waited so far (a tenth of it), not a fixed growth factor: a check that ends
 * is noticed within about 10 % of its own length (×1.5 growth could notice a 4 s check 2 s late, which on a
 * 1 GiB publish is most of what the action adds to the check), for one cheap GET per poll.
 */
import { TimeoutError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { abortableSleep } from '../retry.js';
import type { Binary } from '../types.js';
import { formatDuration } from './format.js';

export const DEFAULT_HASHING_TIMEOUT_MS = 10 * 60_000;

export interface WaitOptions {
  api: { getBinary(prn: string): Promise<Binary> };
  binaryPrn: string;
  timeoutMs?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Polls until the binary leaves `hashing` and returns it in whatever state it reached: `signable` (or
 * `signed`) normally, `uploadable` when the server's check failed and it wants the content again.
 */
export async function waitWhileHashing(options: WaitOptions): Promise<Binary> {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HASHING_TIMEOUT_MS;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const startedAt = now();
  const deadline = startedAt + timeoutMs;
  // The local registry's check of a GiB is done some tens of ms after `hashing` (the content was hashed
  // while it arrived): a first poll at 200 ms made every publish wait most of that time for nothing.
  const firstDelayMs = options.firstDelayMs ?? 50;
  let lastReportAt = startedAt;
  let first = true;
  for (;;) {
    const binary = await options.api.getBinary(options.binaryPrn);
    if (first && binary.state === 'hashing') {
      logger.info(
        `Waiting for the registry's hash check (deadline ${formatDuration(timeoutMs)}, hashing-timeout)`,
      );
    }
    first = false;
    if (binary.state !== 'hashing') {
      logger.info(
        `The registry verified the content in ${formatDuration(now() - startedAt)}: state ${binary.state}`,
      );
      return binary;
    }
    const remaining = deadline - now();
    if (remaining <= 0) {
      throw new TimeoutError(
        `the registry has not finished verifying binary ${options.binaryPrn} after ${formatDuration(timeoutMs)} ` +
          `(still hashing). Re-run the job to keep waiting (nothing is uploaded again), or raise \`hashing-timeout\`.`,
      );
    }
    // A silent wait of minutes looks like a hang: say how long so far and how long at most.
    if (now() - lastReportAt >= 10_000) {
      lastReportAt = now();
      logger.info(
        `Waiting for the registry's hash check: ${formatDuration(lastReportAt - startedAt)} elapsed, ` +
          `deadline in ${formatDuration(Math.max(0, deadline - lastReportAt))} (hashing-timeout ${formatDuration(timeoutMs)})`,
      );
    }
    const delayMs = Math.min(maxDelayMs, Math.max(firstDelayMs, Math.ceil((now() - startedAt) / 10)));
    await sleep(Math.min(delayMs, remaining), options.signal);
  }
}
