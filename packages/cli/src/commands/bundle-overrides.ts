/**
 * Bundle overrides: a bundle for chosen devices during a time window, ahead of any release of their
 * cohort. The device verbs are nested as in Peridio's CLI: `bundle-overrides devices add|list|remove`.
 */
import { list, one } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { defined } from './artifacts.js';
import { LIST_FLAGS, listParams, prnFlag, str } from './common.js';

const COLUMNS = ['prn', 'name', 'bundle_prn', 'starts_at', 'ends_at'];
const DEVICE_COLUMNS = ['device_prn', 'inserted_at'];

const deviceFlag = (what: string) => ({
  name: 'device-prn',
  required: true,
  description: `PRN of the device to ${what}`,
});

export const bundleOverrides: ResourceSpec = {
  name: 'bundle-overrides',
  summary: 'Bundle overrides: a bundle for chosen devices in a time window, ahead of releases',
  verbs: [
    {
      name: 'create',
      summary: 'Create a bundle override; add its devices with `bundle-overrides devices add`',
      details:
        'From --starts-at until --ends-at (open-ended without it) the update check offers the\n' +
        'override’s devices its bundle, whatever their cohort’s releases say. Times are ISO 8601.',
      flags: [
        { name: 'name', required: true, description: 'Override name' },
        { name: 'bundle-prn', required: true, description: 'PRN of the bundle the devices get' },
        { name: 'starts-at', required: true, description: 'When it starts (ISO 8601)', valueName: 'TIME' },
        { name: 'ends-at', description: 'When it ends (ISO 8601, after --starts-at)', valueName: 'TIME' },
        { name: 'description', description: 'Free text shown to people' },
      ],
      examples: [
        'OVERRIDE_PRN=$(peridio bundle-overrides create --name "pin sn-0001" --bundle-prn "$BUNDLE_PRN" \\\n    --starts-at 2026-01-01T00:00:00Z --output prn)',
      ],
      run: async (ctx) =>
        one(
          'bundle_override',
          await ctx.client().releases.createBundleOverride({
            name: str(ctx.flags, 'name')!,
            bundle_prn: str(ctx.flags, 'bundle-prn')!,
            starts_at: str(ctx.flags, 'starts-at')!,
            ...defined('ends_at', str(ctx.flags, 'ends-at')),
            ...defined('description', str(ctx.flags, 'description')),
          }),
          COLUMNS,
        ),
    },
    {
      name: 'get',
      summary: 'Show one bundle override',
      flags: [prnFlag('bundle override')],
      examples: ['peridio bundle-overrides get --prn "$OVERRIDE_PRN" --output table'],
      run: async (ctx) =>
        one(
          'bundle_override',
          await ctx.client().releases.getBundleOverride(str(ctx.flags, 'prn')!),
          COLUMNS,
        ),
    },
    {
      name: 'list',
      summary: 'List bundle overrides (one page)',
      flags: LIST_FLAGS,
      examples: [`peridio bundle-overrides list --search "bundle_prn:'$BUNDLE_PRN'" --output prn`],
      run: async (ctx) => {
        const page = await ctx.client().releases.listBundleOverrides(listParams(ctx.flags));
        return list('bundle_overrides', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'update',
      summary: 'Change a bundle override’s bundle, window, name or description',
      flags: [
        prnFlag('bundle override'),
        { name: 'bundle-prn', description: 'PRN of the bundle the devices get' },
        { name: 'starts-at', description: 'When it starts (ISO 8601)', valueName: 'TIME' },
        { name: 'ends-at', description: 'When it ends (ISO 8601, after the start)', valueName: 'TIME' },
        { name: 'name', description: 'New name' },
        { name: 'description', description: 'Free text shown to people' },
      ],
      examples: [
        'peridio bundle-overrides update --prn "$OVERRIDE_PRN" --ends-at 2030-01-01T00:00:00Z --output table',
      ],
      run: async (ctx) =>
        one(
          'bundle_override',
          await ctx.client().releases.updateBundleOverride(str(ctx.flags, 'prn')!, {
            ...defined('bundle_prn', str(ctx.flags, 'bundle-prn')),
            ...defined('starts_at', str(ctx.flags, 'starts-at')),
            ...defined('ends_at', str(ctx.flags, 'ends-at')),
            ...defined('name', str(ctx.flags, 'name')),
            ...defined('description', str(ctx.flags, 'description')),
          }),
          COLUMNS,
        ),
    },
    {
      name: 'delete',
      summary: 'Delete a bundle override (its devices go back to their releases)',
      flags: [prnFlag('bundle override')],
      examples: ['peridio bundle-overrides delete --prn "$OVERRIDE_PRN"'],
      run: async (ctx) => {
        await ctx.client().releases.deleteBundleOverride(str(ctx.flags, 'prn')!);
        return { kind: 'none' };
      },
    },
    {
      name: 'devices add',
      summary: 'Add a device to a bundle override (adding it again changes nothing)',
      flags: [prnFlag('bundle override'), deviceFlag('add')],
      examples: [
        'peridio bundle-overrides devices add --prn "$OVERRIDE_PRN" --device-prn "$DEVICE_PRN" --output prn',
      ],
      run: async (ctx) =>
        one(
          'device',
          await ctx
            .client()
            .releases.addBundleOverrideDevice(str(ctx.flags, 'prn')!, str(ctx.flags, 'device-prn')!),
          DEVICE_COLUMNS,
          'device_prn',
        ),
    },
    {
      name: 'devices list',
      summary: 'List the devices of a bundle override (one page)',
      details: '--output prn prints the device PRNs.',
      flags: [prnFlag('bundle override'), ...LIST_FLAGS.filter((f) => f.name !== 'search')],
      examples: ['peridio bundle-overrides devices list --prn "$OVERRIDE_PRN" --output prn'],
      run: async (ctx) => {
        const { limit, order, page } = listParams(ctx.flags);
        const result = await ctx
          .client()
          .releases.listBundleOverrideDevices(str(ctx.flags, 'prn')!, { limit, order, page });
        return list('devices', result.items, result.next_page, DEVICE_COLUMNS, 'device_prn');
      },
    },
    {
      name: 'devices remove',
      summary: 'Remove a device from a bundle override',
      flags: [prnFlag('bundle override'), deviceFlag('remove')],
      examples: ['peridio bundle-overrides devices remove --prn "$OVERRIDE_PRN" --device-prn "$DEVICE_PRN"'],
      run: async (ctx) => {
        await ctx
          .client()
          .releases.removeBundleOverrideDevice(str(ctx.flags, 'prn')!, str(ctx.flags, 'device-prn')!);
        return { kind: 'none' };
      },
    },
  ],
};
