import {
  InputError,
  parseTrustedKeys,
  readAllInputs,
  type TrustedKey,
  type UpdateCheckBody,
} from '@peridio-actions/core';
import {
  readInteger,
  readLines,
  readList,
  readOptional,
  readPrn,
  readRequired,
  withApi,
  API_READERS,
  type ApiInputs,
} from '@peridio-actions/action-common/inputs';
import { readBoolean } from '@peridio-actions/action-common/validate';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as core from '@actions/core';

export interface VerifyUpdateInputs {
  api: ApiInputs;
  device: string;
  createDevice?: { cohort: string; tags?: string[] };
  reported: Pick<UpdateCheckBody, 'release_prn' | 'bundle_prn' | 'release_version'>;
  expectBundlePrn?: string;
  expectTargets?: string[];
  trustedKeys: TrustedKey[];
  threshold: number;
  write: boolean;
}

/** The keys as text, or from a file in the checked-out repository (relative to the workspace). */
function readTrustedKeys(): TrustedKey[] {
  const text = core.getInput('trusted-signing-keys');
  const file = readOptional('trusted-signing-keys-file');
  if (text.trim() && file)
    throw new InputError(
      'trusted-signing-keys-file',
      'give trusted-signing-keys or trusted-signing-keys-file, not both',
    );
  if (!file) {
    if (!text.trim())
      throw new InputError(
        'trusted-signing-keys',
        'is required (or trusted-signing-keys-file): the public keys, from your repository, the binaries must be signed with',
      );
    return parseTrustedKeys(text);
  }
  const path = resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), file);
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(
      'trusted-signing-keys-file',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check it out first (actions/checkout) and check the path`,
    );
  }
  return parseTrustedKeys(content, 'trusted-signing-keys-file');
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): VerifyUpdateInputs {
  const read = readAllInputs({
    ...API_READERS,
    device: () => readRequired('device'),
    createDevice: () => {
      const create = readBoolean('create-device', false);
      const cohort = readOptional('cohort');
      const tags = readLines('tags');
      if (create && cohort === undefined) {
        throw new InputError('cohort', 'is required with create-device: true (the test device joins it)');
      }
      return create ? { cohort: cohort!, tags } : undefined;
    },
    reported: () => {
      const releaseVersion = readOptional('release-version');
      const releasePrn = readPrn('release-prn', 'release');
      const bundlePrn = readPrn('bundle-prn', 'bundle');
      return {
        ...(releasePrn ? { release_prn: releasePrn } : {}),
        ...(bundlePrn ? { bundle_prn: bundlePrn } : {}),
        ...(releaseVersion ? { release_version: releaseVersion } : {}),
      };
    },
    expectBundlePrn: () => readPrn('expect-bundle-prn', 'bundle'),
    expectTargets: () => readList('expect-targets'),
    trustedKeys: readTrustedKeys,
    threshold: () => readInteger('trusted-signing-key-threshold', { min: 1, max: 100 }) ?? 1,
    write: () => readBoolean('write', false),
  });
  return withApi(read);
}
