/**
 * Typed errors. The split that matters to users: a `UserError` is something they can fix (bad input,
 * a 4xx from the API, content that conflicts with what is already published); anything else is a bug
 * or an outage, and the action wrapper reports it with its stack.
 */
export class PeridioError extends Error {
  override name = 'PeridioError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Marker base: the user can fix this (input, key, API key, conflicting content). */
export class UserError extends PeridioError {
  override name = 'UserError';
}

/**
 * An action input or a function argument a user supplied is wrong. `input` is its kebab-case name and
 * `reason` what is wrong with it, so callers can use either without taking the message apart.
 */
export class InputError extends UserError {
  override name = 'InputError';
  constructor(
    readonly input: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`Input '${input}': ${reason}`, options);
  }
}

/** The server answered with a non-2xx status. `fieldErrors` holds the 422 validation map, if any. */
export class ApiError extends PeridioError {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly detail: string,
    readonly fieldErrors: Record<string, string[]> = {},
    readonly retryAfterMs?: number,
  ) {
    super(`${method} ${path} failed with HTTP ${status}: ${detail}`);
  }
  /** 4xx other than 408/425/429 are caused by the request, i.e. by the user's input or setup. */
  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500 && ![408, 425, 429].includes(this.status);
  }
}

/** The published state conflicts with what the user asked for (e.g. a target already signed with other content). */
export class ConflictError extends UserError {
  override name = 'ConflictError';
}

/** A connection failed, was reset, or timed out before a response. Retryable. */
export class NetworkError extends PeridioError {
  override name = 'NetworkError';
  constructor(
    message: string,
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A deadline passed (waiting for `signable`, a stalled part, the retry budget). */
export class TimeoutError extends PeridioError {
  override name = 'TimeoutError';
}

/**
 * For a lookup of something the user named: a 404 becomes an InputError on that input, saying `reason`;
 * any other error is returned as it is. Use as `catch (err) { throw notFoundAsInput(err, ...) }`.
 */
export function notFoundAsInput(err: unknown, input: string, reason: string): unknown {
  return err instanceof ApiError && err.status === 404 ? new InputError(input, reason, { cause: err }) : err;
}

/** True when the user, not the code, must act: input errors, conflicts, and 4xx API answers. */
export function isUserError(err: unknown): boolean {
  if (err instanceof UserError) return true;
  if (err instanceof ApiError) return err.isClientError;
  return false;
}
