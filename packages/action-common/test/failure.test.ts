/** What a failed run says, and what it logs at debug beside the annotation. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, InputError, NetworkError } from '@peridio-actions/core';
import { failureMessage, logFailureDetail } from '../src/failure.js';

describe('failureMessage', () => {
  it('turns a 401 into an api-key input error naming the call', () => {
    expect(failureMessage(new ApiError(401, 'GET', '/artifacts', 'Unauthorized'))).toBe(
      "Input 'api-key': the registry rejected the API key (HTTP 401 on GET /artifacts); check the secret passed as api-key (it may be revoked or expired)",
    );
  });

  it('appends the field errors of a 422', () => {
    const err = new ApiError(422, 'POST', '/binaries', 'Unprocessable', {
      target: ['has already been taken'],
      size: ['must be greater than 0', 'is invalid'],
    });
    expect(failureMessage(err)).toBe(
      'POST /binaries failed with HTTP 422: Unprocessable (target has already been taken; size must be greater than 0, is invalid)',
    );
    expect(failureMessage(new ApiError(500, 'GET', '/x', 'boom'))).toBe('GET /x failed with HTTP 500: boom');
  });

  it('tells a network failure the job can be re-run to resume', () => {
    expect(failureMessage(new NetworkError('PUT part 2: write ECONNRESET', 'ECONNRESET'))).toBe(
      'PUT part 2: write ECONNRESET. The registry stopped answering; re-run the job to resume where it stopped.',
    );
  });

  it('uses the message of any other error, and String() of a non-error', () => {
    expect(failureMessage(new InputError('file', 'does not exist'))).toBe("Input 'file': does not exist");
    expect(failureMessage('plain')).toBe('plain');
  });
});

describe('logFailureDetail', () => {
  const originalWrite = process.stdout.write;
  let out: string;
  beforeEach(() => {
    out = '';
    process.stdout.write = (chunk: string) => ((out += chunk), true);
  });
  afterEach(() => {
    process.stdout.write = originalWrite;
  });

  it('logs a bug with its stack at debug, a user error without, and any cause', () => {
    const bug = new TypeError('x is undefined');
    logFailureDetail(bug);
    expect(out).toContain('::debug::TypeError: x is undefined');
    out = '';
    logFailureDetail(new InputError('file', 'does not exist', { cause: new Error('ENOENT: no such file') }));
    expect(out).toBe('::debug::caused by: ENOENT: no such file\n');
  });
});
