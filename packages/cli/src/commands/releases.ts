/**
 * Releases: a bundle offered to a cohort. `create` and `promote` are core's createRelease and
 * promoteRelease flows (SemVer checked, idempotent by bundle, a phase never narrowed); the rest are
 * single API calls.
 */
import { createRelease, InputError, parsePhaseValue, promoteRelease } from '@peridio-actions/core';
import { list, one } from '../output.js';
import type { FlagSpec, FlagValues, ResourceSpec } from '../spec.js';
import { defined } from './artifacts.js';
import { bool, BOOL_CHOICES, csv, LIST_FLAGS, listParams, prnFlag, str } from './common.js';

const COLUMNS = ['prn', 'name', 'version', 'phase_mode', 'phase_value', 'disabled', 'next_release_prn'];

const PHASE_FLAGS: FlagSpec[] = [
  {
    name: 'phase-value',
    description: 'Share of the cohort from 0 to 1 (0.2 or 20%), or a whole device count from 2',
    valueName: 'N',
  },
  {
    name: 'phase-tags',
    multiple: true,
    description: 'Only devices with one of these tags, repeated or delimited by ","',
    valueName: 'TAGS',
  },
];

function phase(flags: FlagValues): { value: number } | { tags: string[] } | undefined {
  const value = str(flags, 'phase-value');
  const tags = csv(flags, 'phase-tags');
  if (value !== undefined && tags !== undefined) {
    throw new InputError('phase-value', 'give --phase-value or --phase-tags, not both');
  }
  if (tags !== undefined) {
    if (tags.length === 0) throw new InputError('phase-tags', 'names no tag');
    return { tags };
  }
  return value === undefined ? undefined : { value: parsePhaseValue(value) };
}

export const releases: ResourceSpec = {
  name: 'releases',
  summary: 'Releases: a bundle offered to a cohort’s devices, phased, scheduled, in order',
  verbs: [
    {
      name: 'create',
      summary: 'Create a release of a bundle in a cohort (the new latest release)',
      details:
        'Running it again with the same bundle and cohort prints the existing release. Without a phase\n' +
        'the release is for every device; without --schedule-date it is available now. --version is\n' +
        'SemVer; --version-requirement defaults to "< VERSION". If the latest release is still phased,\n' +
        '--complete-previous (an addition of this CLI) opens it to every device first.\n' +
        'The new release is the cohort’s latest unless --next-release-prn places it before that release;\n' +
        'with --previous-release-prn too it goes between the two, which must be linked.',
      flags: [
        { name: 'bundle-prn', required: true, description: 'PRN of the bundle to release' },
        { name: 'cohort-prn', required: true, description: 'PRN of the cohort' },
        { name: 'name', required: true, description: 'Release name, unique in the cohort' },
        { name: 'version', required: true, description: 'Release version (SemVer), e.g. 1.2.0' },
        { name: 'version-requirement', description: 'Versions that may update to it (default "< VERSION")' },
        ...PHASE_FLAGS,
        { name: 'required', type: 'boolean', description: 'Devices must pass through this release' },
        { name: 'disabled', choices: BOOL_CHOICES, description: 'true: not offered until enabled' },
        { name: 'schedule-date', description: 'When it becomes available (ISO 8601; default now)' },
        { name: 'description', description: 'Free text shown to people' },
        { name: 'next-release-prn', description: 'Place it before this release of the cohort' },
        {
          name: 'previous-release-prn',
          description: 'Place it after this release (alone: only after the latest)',
        },
        {
          name: 'complete-previous',
          type: 'boolean',
          description: 'Open a still phased latest release to everyone first (extension)',
        },
      ],
      inputFlags: { cohort: 'cohort-prn' },
      examples: [
        'RELEASE_PRN=$(peridio releases create --bundle-prn "$BUNDLE_PRN" --cohort-prn "$COHORT_PRN" \\\n    --name v1.0.0 --version 1.0.0 --output prn)',
        'peridio releases create --bundle-prn "$BUNDLE_PRN" --cohort-prn "$COHORT_PRN" --name v1.1.0 \\\n    --version 1.1.0 --phase-value 0.1 --schedule-date 2030-01-01T00:00:00Z --output table',
        'peridio releases create --bundle-prn "$HOTFIX_BUNDLE_PRN" --cohort-prn "$COHORT_PRN" --name v1.0.1 \\\n    --version 1.0.1 --previous-release-prn "$R1" --next-release-prn "$R2" --required --output prn',
      ],
      run: async (ctx) => {
        const { release } = await createRelease({
          api: ctx.client(),
          bundlePrn: str(ctx.flags, 'bundle-prn')!,
          cohort: str(ctx.flags, 'cohort-prn')!,
          name: str(ctx.flags, 'name')!,
          version: str(ctx.flags, 'version')!,
          versionRequirement: str(ctx.flags, 'version-requirement'),
          phase: phase(ctx.flags),
          required: ctx.flags.required === true,
          disabled: bool(ctx.flags, 'disabled'),
          scheduleDate: str(ctx.flags, 'schedule-date'),
          description: str(ctx.flags, 'description'),
          nextReleasePrn: str(ctx.flags, 'next-release-prn'),
          previousReleasePrn: str(ctx.flags, 'previous-release-prn'),
          completePrevious: ctx.flags['complete-previous'] === true,
          logger: ctx.logger,
        });
        return one('release', release, COLUMNS);
      },
    },
    {
      name: 'get',
      summary: 'Show one release',
      flags: [prnFlag('release')],
      examples: ['peridio releases get --prn "$RELEASE_PRN" --output table'],
      run: async (ctx) =>
        one('release', await ctx.client().releases.getRelease(str(ctx.flags, 'prn')!), COLUMNS),
    },
    {
      name: 'list',
      summary: 'List releases (one page)',
      flags: LIST_FLAGS,
      examples: [`peridio releases list --search "cohort_prn:'$COHORT_PRN'" --output table`],
      run: async (ctx) => {
        const page = await ctx.client().releases.listReleases(listParams(ctx.flags));
        return list('releases', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'update',
      summary: 'Change a release’s phase, schedule, required, disabled or description',
      details: 'Sent as given; `releases promote` is the checked way to widen a phase.',
      flags: [
        prnFlag('release'),
        ...PHASE_FLAGS,
        { name: 'required', choices: BOOL_CHOICES, description: 'Devices must pass through this release' },
        { name: 'disabled', choices: BOOL_CHOICES, description: 'true: not offered' },
        { name: 'schedule-date', description: 'When it becomes available (ISO 8601)' },
        { name: 'description', description: 'Free text shown to people' },
      ],
      examples: [
        'peridio releases update --prn "$RELEASE_PRN" --disabled false --output table',
        'peridio releases update --prn "$RELEASE_PRN" --schedule-date 2030-01-01T00:00:00Z',
      ],
      run: async (ctx) => {
        const p = phase(ctx.flags);
        return one(
          'release',
          await ctx.client().releases.updateRelease(str(ctx.flags, 'prn')!, {
            ...(p === undefined
              ? {}
              : 'tags' in p
                ? { phase_mode: 'tags' as const, phase_tags: p.tags }
                : { phase_mode: 'numeric' as const, phase_value: p.value }),
            ...defined('required', bool(ctx.flags, 'required')),
            ...defined('disabled', bool(ctx.flags, 'disabled')),
            ...defined('schedule_date', str(ctx.flags, 'schedule-date')),
            ...defined('description', str(ctx.flags, 'description')),
          }),
          COLUMNS,
        );
      },
    },
    {
      name: 'delete',
      summary: 'Delete a release; the releases before it then lead to the one after it',
      flags: [prnFlag('release')],
      examples: ['peridio releases delete --prn "$RELEASE_PRN"'],
      run: async (ctx) => {
        await ctx.client().releases.deleteRelease(str(ctx.flags, 'prn')!);
        return { kind: 'none' };
      },
    },
    {
      name: 'promote',
      summary: 'Widen a phased release (an addition of this CLI): never narrows it',
      details:
        'A larger --phase-value, more --phase-tags, or --enable (disabled: false). A value that would\n' +
        'narrow the rollout is refused; asking for what the release already has changes nothing.\n' +
        '--phase-value 1 completes the release: every device of the cohort.',
      flags: [
        { ...prnFlag('release'), aliases: ['release-prn'] },
        ...PHASE_FLAGS,
        { name: 'enable', type: 'boolean', description: 'Also enable a disabled release' },
      ],
      inputFlags: { 'release-prn': 'prn' },
      examples: [
        'peridio releases promote --prn "$RELEASE_PRN" --phase-value 0.5 --output table',
        'peridio releases promote --prn "$RELEASE_PRN" --phase-value 1 --output prn',
      ],
      run: async (ctx) => {
        const p = phase(ctx.flags);
        const { release } = await promoteRelease({
          api: ctx.client(),
          releasePrn: str(ctx.flags, 'prn')!,
          phaseValue: p && 'value' in p ? p.value : undefined,
          phaseTags: p && 'tags' in p ? p.tags : undefined,
          enable: ctx.flags.enable === true,
          logger: ctx.logger,
        });
        return one('release', release, COLUMNS);
      },
    },
  ],
};
