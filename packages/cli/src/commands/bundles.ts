/**
 * Bundles: the signed binaries a release ships. `create` goes through core: from artifact versions with
 * the createBundle flow, from binary PRNs with core's content-derived id, so a re-run (or a racing job)
 * gets the same bundle back instead of a second one.
 */
import { bundleIdOf, createBundle, InputError } from '@peridio-actions/core';
import { list, one } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { csv, customMetadata, LIST_FLAGS, listParams, prnFlag, str } from './common.js';

const COLUMNS = ['prn', 'name', 'hash', 'binaries'];

export const bundles: ResourceSpec = {
  name: 'bundles',
  summary: 'Bundles: a set of signed binaries (one per target) that a release ships',
  verbs: [
    {
      name: 'create',
      summary: 'Create a bundle from artifact versions’ signed binaries, or from binary PRNs',
      details:
        'The bundle id is derived from the binaries, the name and the custom metadata, so running the\n' +
        'same command again prints the same bundle and creates nothing. --artifact-version-prns takes\n' +
        'every signed binary of those versions, ordered by artifact name and target; --binary-prns takes\n' +
        'the binaries in the order given. --custom-metadata applies to each binary in the bundle.',
      flags: [
        {
          name: 'artifact-version-prns',
          aliases: ['artifact-version-prn'],
          multiple: true,
          description: 'Artifact versions whose signed binaries go in, repeated or delimited by ","',
          valueName: 'PRNS',
        },
        {
          name: 'binary-prns',
          multiple: true,
          description: 'Binaries that go in, repeated or delimited by ","',
          valueName: 'PRNS',
        },
        { name: 'name', description: 'Bundle name (default: the artifact versions, e.g. firmware@1.2.0)' },
        { name: 'custom-metadata', description: 'A JSON object kept with each binary', valueName: 'JSON' },
        { name: 'custom-metadata-path', description: 'A file holding that JSON object', valueName: 'PATH' },
        { name: 'id', description: 'A UUID to create the record with instead of the derived one' },
      ],
      examples: [
        'BUNDLE_PRN=$(peridio bundles create --artifact-version-prns "$VERSION_PRN" --output prn)',
        'peridio bundles create --binary-prns "$ARM_PRN,$X86_PRN" --name "firmware 1.2.0" --output prn',
      ],
      inputFlags: { components: 'artifact-version-prns' },
      run: async (ctx) => {
        const versions = csv(ctx.flags, 'artifact-version-prns');
        const binaries = csv(ctx.flags, 'binary-prns');
        const metadata = customMetadata(ctx.flags);
        const name = str(ctx.flags, 'name');
        if ((versions === undefined) === (binaries === undefined)) {
          throw new InputError(
            'artifact-version-prns',
            'give --artifact-version-prns or --binary-prns (one of them)',
          );
        }
        if (versions !== undefined) {
          if (str(ctx.flags, 'id') !== undefined) {
            throw new InputError(
              'id',
              'works with --binary-prns only: from artifact versions the id is derived',
            );
          }
          const { bundle } = await createBundle({
            api: ctx.client(),
            components: versions.map((prn) => ({ prn })),
            componentsInput: 'artifact-version-prns',
            name,
            customMetadata: metadata,
            logger: ctx.logger,
          });
          return one('bundle', bundle, COLUMNS);
        }
        if (binaries!.length === 0) throw new InputError('binary-prns', 'names no binary');
        const { bundle } = await ctx.client().releases.createBundle({
          id: str(ctx.flags, 'id') ?? bundleIdOf(binaries!, metadata, name ?? ''),
          name: name ?? null,
          binaries: binaries!.map((prn) => ({ prn, custom_metadata: metadata ?? null })),
        });
        return one('bundle', bundle, COLUMNS);
      },
    },
    {
      name: 'get',
      summary: 'Show one bundle',
      flags: [prnFlag('bundle')],
      examples: ['peridio bundles get --prn "$BUNDLE_PRN" --output table'],
      run: async (ctx) =>
        one('bundle', await ctx.client().releases.getBundle(str(ctx.flags, 'prn')!), COLUMNS),
    },
    {
      name: 'list',
      summary: 'List bundles (one page)',
      flags: LIST_FLAGS,
      examples: [`peridio bundles list --search "name:'firmware 1.2.0'" --output table`],
      run: async (ctx) => {
        const page = await ctx.client().releases.listBundles(listParams(ctx.flags));
        return list('bundles', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'update',
      summary: 'Rename a bundle (its binaries never change)',
      flags: [prnFlag('bundle'), { name: 'name', required: true, description: 'New name' }],
      examples: ['peridio bundles update --prn "$BUNDLE_PRN" --name "firmware 1.2.0 (rc)" --output prn'],
      run: async (ctx) =>
        one(
          'bundle',
          await ctx.client().releases.updateBundle(str(ctx.flags, 'prn')!, { name: str(ctx.flags, 'name')! }),
          COLUMNS,
        ),
    },
    {
      name: 'delete',
      summary: 'Delete a bundle that no release or bundle override uses',
      flags: [prnFlag('bundle')],
      examples: ['peridio bundles delete --prn "$BUNDLE_PRN"'],
      run: async (ctx) => {
        await ctx.client().releases.deleteBundle(str(ctx.flags, 'prn')!);
        return { kind: 'none' };
      },
    },
  ],
};
