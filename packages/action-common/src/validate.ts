/** Readers of the inputs added for a new user's first hour: switches, re-run policy, the hash a signer expects. */
import { InputError } from '@peridio-actions/core';
import { readOptional } from './inputs.js';

export type IfSignedDiffers = 'keep-same-commit' | 'fail';

export function readIfSignedDiffers(): IfSignedDiffers {
  const value = readOptional('if-signed-differs') ?? 'keep-same-commit';
  if (value === 'keep-same-commit' || value === 'fail') return value;
  throw new InputError('if-signed-differs', `must be keep-same-commit or fail, got '${value}'`);
}

/** The `hash` output of the job that built and uploaded the file: 64 hex characters. */
export function readExpectedHash(): string | undefined {
  const value = readOptional('expected-hash');
  if (value === undefined) return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(value)) {
    throw new InputError(
      'expected-hash',
      `must be a SHA-256 in hex (64 characters, the \`hash\` output of upload-binary), got ${value.length} characters`,
    );
  }
  return value.toLowerCase();
}

export function readBoolean(name: string, fallback: boolean): boolean {
  const value = readOptional(name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InputError(name, `must be true or false, got '${value}'`);
}
