import * as github from '@actions/github';
import { InputError, parsePhaseValue, strictVersion, versionFromRef } from '@peridio-actions/core';
import {
  readApiInputs,
  readBoolean,
  readLines,
  readOptional,
  readPrn,
  readRequired,
  type ApiInputs,
} from '../../action-common/src/inputs.js';

export interface CreateReleaseInputs {
  api: ApiInputs;
  bundlePrn: string;
  cohort: string;
  product?: string;
  name: string;
  version: string;
  versionRequirement?: string;
  required: boolean;
  disabled: boolean;
  phase?: { value: number } | { tags: string[] };
  scheduleDate?: string;
  completePrevious: boolean;
}

/** The tag the run is for (`refs/tags/v1.2.3` → `v1.2.3`), as the default release name. */
function tagName(ref: string | undefined): string {
  if (ref?.startsWith('refs/tags/')) return ref.slice('refs/tags/'.length);
  throw new InputError(
    'name',
    `the workflow ran for ${ref ?? 'no ref'}, which is not a tag; pass name explicitly`,
  );
}

export function readPhase(): CreateReleaseInputs['phase'] {
  const value = readOptional('phase-value');
  const tags = readLines('phase-tags');
  if (value !== undefined && tags !== undefined)
    throw new InputError('phase-tags', 'give phase-value or phase-tags, not both');
  if (tags) return { tags };
  return value === undefined ? undefined : { value: parsePhaseValue(value) };
}

export function readInputs(): CreateReleaseInputs {
  const scheduleDate = readOptional('schedule-date');
  if (
    scheduleDate !== undefined &&
    (!/^\d{4}-\d{2}-\d{2}T/.test(scheduleDate) || Number.isNaN(Date.parse(scheduleDate)))
  ) {
    throw new InputError(
      'schedule-date',
      `'${scheduleDate}' is not an ISO 8601 date-time like 2026-06-01T08:00:00Z`,
    );
  }
  const explicitVersion = readOptional('version');
  return {
    api: readApiInputs(),
    bundlePrn: readPrn('bundle-prn', 'bundle', { required: true }),
    cohort: readRequired('cohort'),
    product: readOptional('product'),
    name: readOptional('name') ?? tagName(github.context.ref),
    // Strict SemVer either way; `v` stripped.
    version:
      explicitVersion !== undefined ? strictVersion(explicitVersion) : versionFromRef(github.context.ref),
    versionRequirement: readOptional('version-requirement'),
    required: readBoolean('required', false),
    disabled: readBoolean('disabled', false),
    phase: readPhase(),
    scheduleDate: scheduleDate && new Date(scheduleDate).toISOString(),
    completePrevious: readBoolean('complete-previous', false),
  };
}
