/**
 * What a failed run says. A user error is one line naming what to fix (the runner turns it into an
 * error annotation); anything else also gets its stack in the debug log, for a bug report.
 */
import * as core from '@actions/core';
import { ApiError, isUserError, NetworkError } from '@peridio-actions/core';

/**
 * The API key role (registry extension, docs/access-audit-webhooks.md) each action needs; a 403 names it.
 * publish-binary uploads and signs, so it needs both, which only admin has.
 */
export const STEP_ROLES = {
  'create-artifact-version': 'publisher',
  'upload-binary': 'publisher',
  'sign-binary': 'signer',
  'publish-binary': 'admin',
} as const;

export function failureMessage(err: unknown, step?: keyof typeof STEP_ROLES): string {
  if (err instanceof ApiError && err.status === 401) {
    return `Input 'api-key': the registry rejected the API key (HTTP 401 on ${err.method} ${err.path}); check the secret passed as api-key (it may be revoked or expired)`;
  }
  if (err instanceof ApiError && err.status === 403) {
    const needs = step
      ? `; ${step} needs an API key with role ${STEP_ROLES[step]}${STEP_ROLES[step] === 'admin' ? '' : ' (or admin)'}`
      : '';
    return `Input 'api-key': the API key may not do this (HTTP 403 on ${err.method} ${err.path}: ${err.detail})${needs}`;
  }
  if (err instanceof ApiError) {
    const fields = Object.entries(err.fieldErrors).map(
      ([field, messages]) => `${field} ${messages.join(', ')}`,
    );
    return fields.length > 0 ? `${err.message} (${fields.join('; ')})` : err.message;
  }
  if (err instanceof NetworkError) {
    return `${err.message}. The registry stopped answering; re-run the job to resume where it stopped.`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Logs what the annotation leaves out; the caller then marks the step failed. */
export function logFailureDetail(err: unknown): void {
  if (!isUserError(err) && err instanceof Error && err.stack) core.debug(err.stack);
  if (err instanceof Error && err.cause instanceof Error) core.debug(`caused by: ${err.cause.message}`);
}
