/**
 * Exit codes, documented in `--help` and the README, so a CI script can tell a mistake it must fix
 * from an outage worth a retry.
 */
import {
  ApiError,
  InputError,
  NetworkError,
  PeridioError,
  TimeoutError,
  isUserError,
} from '@peridio-actions/core';
import { UsageError } from './spec.js';

export const EXIT = { ok: 0, user: 1, usage: 2, remote: 3, interrupted: 130 } as const;

export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0  done',
  '  1  user error: bad flag value, missing API key, 4xx from the API, conflicting content',
  '  2  usage: unknown command or flag, missing required flag',
  '  3  remote or network failure after retries (5xx, timeouts, refused connections)',
  '  130  interrupted (Ctrl-C, SIGTERM); running the command again resumes',
].join('\n');

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof InputError || isUserError(err)) return EXIT.user;
  if (err instanceof ApiError || err instanceof NetworkError || err instanceof TimeoutError)
    return EXIT.remote;
  // Other PeridioErrors come from the registry's side (an upload it never completes); a plain bug is 1.
  if (err instanceof PeridioError) return EXIT.remote;
  return EXIT.user;
}
