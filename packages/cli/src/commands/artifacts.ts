import { list, one } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { customMetadata, LIST_FLAGS, listParams, METADATA_FLAGS, prnFlag, str } from './common.js';

const COLUMNS = ['prn', 'name', 'description', 'inserted_at'];

export const artifacts: ResourceSpec = {
  name: 'artifacts',
  summary: 'Artifacts: a named piece of software (firmware, an app) that has versions',
  verbs: [
    {
      name: 'create',
      summary: 'Create an artifact',
      flags: [
        { name: 'name', required: true, description: 'Artifact name, unique in the organization' },
        ...METADATA_FLAGS,
        { name: 'id', description: 'A UUID to create the record with' },
      ],
      examples: ['peridio artifacts create --name firmware --output prn'],
      run: async (ctx) =>
        one(
          'artifact',
          await ctx.client().createArtifact({
            name: str(ctx.flags, 'name')!,
            description: str(ctx.flags, 'description') ?? null,
            custom_metadata: customMetadata(ctx.flags) ?? null,
            id: str(ctx.flags, 'id'),
          }),
          COLUMNS,
        ),
    },
    {
      name: 'get',
      summary: 'Show one artifact',
      flags: [prnFlag('artifact')],
      examples: ['peridio artifacts get --prn "$ARTIFACT_PRN"'],
      run: async (ctx) => one('artifact', await ctx.client().getArtifact(str(ctx.flags, 'prn')!), COLUMNS),
    },
    {
      name: 'list',
      summary: 'List artifacts (one page)',
      flags: LIST_FLAGS,
      examples: [`peridio artifacts list --search "name:'firmware'" --output table`],
      run: async (ctx) => {
        const page = await ctx.client().listArtifacts(listParams(ctx.flags));
        return list('artifacts', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'update',
      summary: 'Change an artifact’s name, description or custom metadata',
      flags: [prnFlag('artifact'), { name: 'name', description: 'New name' }, ...METADATA_FLAGS],
      examples: ['peridio artifacts update --prn "$ARTIFACT_PRN" --description "Main board firmware"'],
      run: async (ctx) => {
        const metadata = customMetadata(ctx.flags);
        return one(
          'artifact',
          await ctx.client().updateArtifact(str(ctx.flags, 'prn')!, {
            ...defined('name', str(ctx.flags, 'name')),
            ...defined('description', str(ctx.flags, 'description')),
            ...defined('custom_metadata', metadata),
          }),
          COLUMNS,
        );
      },
    },
  ],
};

export function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
