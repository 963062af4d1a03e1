import { list, one } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { defined } from './artifacts.js';
import { LIST_FLAGS, listParams, prnFlag, str } from './common.js';

const COLUMNS = ['prn', 'name', 'product_prn', 'description'];

export const cohorts: ResourceSpec = {
  name: 'cohorts',
  summary: 'Cohorts: a group of a product’s devices that receives releases together',
  verbs: [
    {
      name: 'create',
      summary: 'Create a cohort of a product',
      flags: [
        { name: 'name', required: true, description: 'Cohort name' },
        { name: 'product-prn', required: true, description: 'PRN of the product' },
        { name: 'description', description: 'Free text shown to people' },
      ],
      examples: [
        'COHORT_PRN=$(peridio cohorts create --name canary --product-prn "$PRODUCT_PRN" --output prn)',
      ],
      run: async (ctx) =>
        one(
          'cohort',
          await ctx.client().releases.createCohort({
            name: str(ctx.flags, 'name')!,
            product_prn: str(ctx.flags, 'product-prn')!,
            description: str(ctx.flags, 'description') ?? null,
          }),
          COLUMNS,
        ),
    },
    {
      name: 'get',
      summary: 'Show one cohort',
      flags: [prnFlag('cohort')],
      examples: ['peridio cohorts get --prn "$COHORT_PRN" --output table'],
      run: async (ctx) =>
        one('cohort', await ctx.client().releases.getCohort(str(ctx.flags, 'prn')!), COLUMNS),
    },
    {
      name: 'list',
      summary: 'List cohorts (one page)',
      flags: LIST_FLAGS,
      examples: [`peridio cohorts list --search "product_prn:'$PRODUCT_PRN'" --output prn`],
      run: async (ctx) => {
        const page = await ctx.client().releases.listCohorts(listParams(ctx.flags));
        return list('cohorts', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'update',
      summary: 'Change a cohort’s name or description',
      flags: [
        prnFlag('cohort'),
        { name: 'name', description: 'New name' },
        { name: 'description', description: 'Free text shown to people' },
      ],
      examples: ['peridio cohorts update --prn "$COHORT_PRN" --description "First 5% of the fleet"'],
      run: async (ctx) =>
        one(
          'cohort',
          await ctx.client().releases.updateCohort(str(ctx.flags, 'prn')!, {
            ...defined('name', str(ctx.flags, 'name')),
            ...defined('description', str(ctx.flags, 'description')),
          }),
          COLUMNS,
        ),
    },
  ],
};
