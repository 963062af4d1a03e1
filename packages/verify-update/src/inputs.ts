import { InputError, parseTrustedKeys, type TrustedKey, type UpdateCheckBody } from '@peridio-actions/core';
import {
  readApiInputs,
  readBoolean,
  readInteger,
  readLines,
  readOptional,
  readPrn,
  readRequired,
  type ApiInputs,
} from '../../action-common/src/inputs.js';
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

export function readInputs(): VerifyUpdateInputs {
  const create = readBoolean('create-device', false);
  const cohort = readOptional('cohort');
  if (create && cohort === undefined)
    throw new InputError('cohort', 'is required with create-device: true (the test device joins it)');
  const releasePrn = readPrn('release-prn', 'release');
  const bundlePrn = readPrn('bundle-prn', 'bundle');
  const releaseVersion = readOptional('release-version');
  return {
    api: readApiInputs(),
    device: readRequired('device'),
    createDevice: create ? { cohort: cohort!, tags: readLines('tags') } : undefined,
    reported: {
      ...(releasePrn ? { release_prn: releasePrn } : {}),
      ...(bundlePrn ? { bundle_prn: bundlePrn } : {}),
      ...(releaseVersion ? { release_version: releaseVersion } : {}),
    },
    expectBundlePrn: readPrn('expect-bundle-prn', 'bundle'),
    expectTargets: readLines('expect-targets'),
    trustedKeys: parseTrustedKeys(core.getInput('trusted-signing-keys')),
    threshold: readInteger('trusted-signing-key-threshold', { min: 1, max: 100 }) ?? 1,
    write: readBoolean('write', false),
  };
}
