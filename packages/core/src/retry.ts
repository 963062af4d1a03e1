import { ApiError, NetworkError, TimeoutError, UserError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Total budget from the first attempt; no sleep may end past it. */
  deadlineMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  deadlineMs: 10 * 60_000,
};

const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Transient failures only: retrying a request the server refused on its merits cannot succeed. */
export function isRetryable(err: unknown): boolean {
  // InputError and ConflictError are UserErrors: the same request would fail the same way.
  if (err instanceof UserError) return false;
  if (err instanceof ApiError) return RETRYABLE_STATUSES.has(err.status);
  return err instanceof NetworkError || err instanceof TimeoutError;
}

/** Retry-After in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent/garbled. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse also accepts bare numbers and other loose forms; an HTTP date always names a weekday or month.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Full jitter (AWS architecture blog): uniform in [0, min(maxDelay, base·2^(attempt-1))]. */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * (ceiling + 1));
}

export interface RetryOptions {
  /** Names the operation in log lines, e.g. `PUT part 3`. */
  label: string;
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  logger?: Logger;
  shouldRetry?: (err: unknown) => boolean;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** Runs `fn` until it succeeds, the error is not retryable, attempts run out, or the deadline would pass. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const shouldRetry = options.shouldRetry ?? isRetryable;
  const sleep = options.sleep ?? abortableSleep;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const deadline = now() + policy.deadlineMs;

  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      options.signal?.throwIfAborted();
      if (attempt >= policy.maxAttempts || !shouldRetry(err)) throw err;
      let delay = backoffDelay(attempt, policy, options.random);
      const retryAfter = err instanceof ApiError ? err.retryAfterMs : undefined;
      if (retryAfter !== undefined) delay = Math.max(delay, retryAfter);
      if (now() + delay > deadline) {
        logger.debug(
          `${options.label}: attempt ${attempt}/${policy.maxAttempts} failed: ${messageOf(err)}; retry budget spent`,
        );
        throw err;
      }
      logger.debug(
        `${options.label}: attempt ${attempt}/${policy.maxAttempts} failed: ${messageOf(err)}; retrying in ${delay} ms`,
      );
      await sleep(delay, options.signal);
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** setTimeout that rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The reason is an Error (an AbortError unless the caller chose one); `reject` only sees `any`.
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
