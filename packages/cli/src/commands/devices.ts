import { InputError } from '@peridio-actions/core';
import { answer, list, one } from '../output.js';
import type { FlagSpec, ResourceSpec } from '../spec.js';
import { defined } from './artifacts.js';
import { bool, BOOL_CHOICES, csv, LIST_FLAGS, listParams, prnFlag, str } from './common.js';

const COLUMNS = ['prn', 'identifier', 'cohort_prn', 'reported_release_version'];

/** What both create and update set, as Peridio's CLI spells it. */
const DEVICE_FLAGS: FlagSpec[] = [
  { name: 'description', description: 'Free text shown to people' },
  { name: 'quarantined', choices: BOOL_CHOICES, description: 'true: the update check offers it nothing' },
  { name: 'target', description: 'The device’s target, e.g. arm64-linux' },
];
const UPDATE_COLUMNS = ['status', 'source_type', 'source_prn', 'bundle_prn', 'manifest'];

export const devices: ResourceSpec = {
  name: 'devices',
  summary: 'Devices: one unit of a product, in a cohort, that asks for updates',
  verbs: [
    {
      name: 'create',
      summary: 'Create a device',
      flags: [
        { name: 'identifier', required: true, description: 'The device’s identifier (e.g. its serial)' },
        { name: 'product-prn', required: true, description: 'PRN of the product' },
        { name: 'cohort-prn', description: 'PRN of the cohort to put the device in' },
        {
          name: 'tags',
          multiple: true,
          description: 'Tags, repeated or delimited by ","',
          valueName: 'TAGS',
        },
        ...DEVICE_FLAGS,
      ],
      examples: [
        'DEVICE_PRN=$(peridio devices create --identifier sn-0001 --product-prn "$PRODUCT_PRN" \\\n    --cohort-prn "$COHORT_PRN" --tags lab,eu --output prn)',
      ],
      run: async (ctx) =>
        one(
          'device',
          await ctx.client().releases.createDevice({
            identifier: str(ctx.flags, 'identifier')!,
            product_prn: str(ctx.flags, 'product-prn')!,
            cohort_prn: str(ctx.flags, 'cohort-prn') ?? null,
            tags: csv(ctx.flags, 'tags') ?? null,
            ...defined('description', str(ctx.flags, 'description')),
            ...defined('quarantined', bool(ctx.flags, 'quarantined')),
            ...defined('target', str(ctx.flags, 'target')),
          }),
          COLUMNS,
        ),
    },
    {
      name: 'get',
      summary: 'Show one device',
      flags: [prnFlag('device')],
      examples: ['peridio devices get --prn "$DEVICE_PRN" --output table'],
      run: async (ctx) =>
        one('device', await ctx.client().releases.getDevice(str(ctx.flags, 'prn')!), COLUMNS),
    },
    {
      name: 'list',
      summary: 'List devices (one page)',
      flags: LIST_FLAGS,
      examples: [`peridio devices list --search "cohort_prn:'$COHORT_PRN'" --output table`],
      run: async (ctx) => {
        const page = await ctx.client().releases.listDevices(listParams(ctx.flags));
        return list('devices', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'update',
      summary: 'Move a device to another cohort, re-tag it, quarantine it, or describe it',
      details:
        'Only the flags given change. --tags replaces the tags (--tags "" clears them); the cohort must\n' +
        'be one of the device’s product, which cannot change.',
      flags: [
        prnFlag('device'),
        { name: 'cohort-prn', description: 'PRN of the cohort to move the device to' },
        {
          name: 'tags',
          multiple: true,
          description: 'The new tags, repeated or delimited by ","',
          valueName: 'TAGS',
        },
        ...DEVICE_FLAGS,
      ],
      examples: [
        'peridio devices update --prn "$DEVICE_PRN" --tags lab,eu,beta --output prn',
        'peridio devices update --prn "$DEVICE_PRN" --quarantined true --description "Returned for repair" --output prn',
      ],
      run: async (ctx) =>
        one(
          'device',
          await ctx.client().releases.updateDevice(str(ctx.flags, 'prn')!, {
            ...defined('cohort_prn', str(ctx.flags, 'cohort-prn')),
            ...defined('tags', csv(ctx.flags, 'tags')),
            ...defined('description', str(ctx.flags, 'description')),
            ...defined('quarantined', bool(ctx.flags, 'quarantined')),
            ...defined('target', str(ctx.flags, 'target')),
          }),
          COLUMNS,
        ),
    },
    {
      name: 'get-update',
      summary: 'Ask, as the device would, whether an update is available (the update check)',
      details:
        'Give what the device runs now: --release-prn, --bundle-prn or --release-version. The answer is\n' +
        'printed as the API sends it: status update (with the manifest) or no_update. With --write the\n' +
        'registry also records the given state as the device’s reported state.\n' +
        '--output prn prints the bundle PRN offered (an empty line for no_update).',
      flags: [
        { ...prnFlag('device'), aliases: ['device-prn'] },
        { name: 'release-prn', description: 'The release the device runs now' },
        { name: 'bundle-prn', description: 'The bundle the device runs now' },
        { name: 'release-version', description: 'The release version the device runs now' },
        {
          name: 'write',
          type: 'boolean',
          description: 'Record the given state as the device’s reported state',
        },
      ],
      examples: [
        'peridio devices get-update --prn "$DEVICE_PRN" --release-version 0.9.0',
        'peridio devices get-update --prn "$DEVICE_PRN" --bundle-prn "$BUNDLE_PRN" --write --output table',
      ],
      run: async (ctx) => {
        const current = {
          release_prn: str(ctx.flags, 'release-prn'),
          bundle_prn: str(ctx.flags, 'bundle-prn'),
          release_version: str(ctx.flags, 'release-version'),
        };
        if (Object.values(current).every((v) => v === undefined)) {
          throw new InputError(
            'release-prn',
            'give what the device runs now: --release-prn, --bundle-prn or --release-version',
          );
        }
        const check = await ctx.client().releases.checkUpdate(str(ctx.flags, 'prn')!, {
          ...current,
          write: ctx.flags.write === true,
        });
        return answer(check, 'bundle_prn', UPDATE_COLUMNS);
      },
    },
  ],
};
