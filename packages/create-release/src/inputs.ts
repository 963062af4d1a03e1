import * as github from '@actions/github';
import {
  InputError,
  parsePhaseValue,
  readAllInputs,
  strictVersion,
  versionFromRef,
} from '@peridio-actions/core';
import {
  API_READERS,
  readLines,
  readOptional,
  readPrn,
  readRequired,
  withApi,
  type ApiInputs,
} from '@peridio-actions/action-common/inputs';
import { readBoolean } from '@peridio-actions/action-common/validate';

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

function readPhase(): CreateReleaseInputs['phase'] {
  const value = readOptional('phase-value');
  const tags = readLines('phase-tags');
  if (value !== undefined && tags !== undefined)
    throw new InputError('phase-tags', 'give phase-value or phase-tags, not both');
  if (tags) return { tags };
  return value === undefined ? undefined : { value: parsePhaseValue(value) };
}

function readScheduleDate(): string | undefined {
  const value = readOptional('schedule-date');
  if (value === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InputError(
      'schedule-date',
      `'${value}' is not an ISO 8601 date-time like 2026-06-01T08:00:00Z`,
    );
  }
  return new Date(value).toISOString();
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): CreateReleaseInputs {
  const read = readAllInputs({
    ...API_READERS,
    bundlePrn: () => readPrn('bundle-prn', 'bundle', { required: true }),
    cohort: () => readRequired('cohort'),
    product: () => readOptional('product'),
    name: () => readOptional('name') ?? tagName(github.context.ref),
    // Strict SemVer either way; `v` stripped.
    version: () => {
      const explicit = readOptional('version');
      return explicit !== undefined ? strictVersion(explicit) : versionFromRef(github.context.ref);
    },
    versionRequirement: () => readOptional('version-requirement'),
    required: () => readBoolean('required', false),
    disabled: () => readBoolean('disabled', false),
    phase: readPhase,
    scheduleDate: readScheduleDate,
    completePrevious: () => readBoolean('complete-previous', false),
  });
  return withApi(read);
}
