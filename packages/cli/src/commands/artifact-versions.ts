import { list, one } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { defined } from './artifacts.js';
import { customMetadata, LIST_FLAGS, listParams, METADATA_FLAGS, prnFlag, str } from './common.js';

const COLUMNS = ['prn', 'version', 'artifact_prn', 'inserted_at'];

export const artifactVersions: ResourceSpec = {
  name: 'artifact-versions',
  summary: 'Artifact versions: one release of an artifact, holding a binary per target',
  verbs: [
    {
      name: 'create',
      summary: 'Create a version of an artifact',
      flags: [
        { name: 'artifact-prn', required: true, description: 'PRN of the artifact' },
        { name: 'version', required: true, description: 'Version string, e.g. 1.2.0' },
        ...METADATA_FLAGS,
        { name: 'id', description: 'A UUID to create the record with' },
      ],
      examples: [
        'peridio artifact-versions create --artifact-prn "$ARTIFACT_PRN" --version 1.2.0 --output prn',
      ],
      run: async (ctx) =>
        one(
          'artifact_version',
          await ctx.client().createArtifactVersion({
            artifact_prn: str(ctx.flags, 'artifact-prn')!,
            version: str(ctx.flags, 'version')!,
            description: str(ctx.flags, 'description') ?? null,
            custom_metadata: customMetadata(ctx.flags) ?? null,
            id: str(ctx.flags, 'id'),
          }),
          COLUMNS,
        ),
    },
    {
      name: 'get',
      summary: 'Show one artifact version',
      flags: [prnFlag('artifact version')],
      examples: ['peridio artifact-versions get --prn "$VERSION_PRN"'],
      run: async (ctx) =>
        one('artifact_version', await ctx.client().getArtifactVersion(str(ctx.flags, 'prn')!), COLUMNS),
    },
    {
      name: 'list',
      summary: 'List artifact versions (one page)',
      flags: LIST_FLAGS,
      examples: [`peridio artifact-versions list --search "artifact_prn:'$ARTIFACT_PRN'" --output table`],
      run: async (ctx) => {
        const page = await ctx.client().listArtifactVersions(listParams(ctx.flags));
        return list('artifact_versions', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'update',
      summary: 'Change a version’s description or custom metadata',
      flags: [prnFlag('artifact version'), ...METADATA_FLAGS],
      examples: ['peridio artifact-versions update --prn "$VERSION_PRN" --description "Fixes the boot loop"'],
      run: async (ctx) =>
        one(
          'artifact_version',
          await ctx.client().updateArtifactVersion(str(ctx.flags, 'prn')!, {
            ...defined('description', str(ctx.flags, 'description')),
            ...defined('custom_metadata', customMetadata(ctx.flags)),
          }),
          COLUMNS,
        ),
    },
  ],
};
