import { list, one } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { LIST_FLAGS, listParams, str } from './common.js';

const COLUMNS = ['prn', 'name', 'archived'];

export const products: ResourceSpec = {
  name: 'products',
  summary: 'Products: a kind of device; cohorts and devices belong to one',
  verbs: [
    {
      name: 'create',
      summary: 'Create a product',
      flags: [{ name: 'name', required: true, description: 'Product name, unique in the organization' }],
      examples: ['PRODUCT_PRN=$(peridio products create --name gateway --output prn)'],
      run: async (ctx) =>
        one('product', await ctx.client().releases.createProduct({ name: str(ctx.flags, 'name')! }), COLUMNS),
    },
    {
      name: 'list',
      summary: 'List products (one page)',
      flags: LIST_FLAGS,
      examples: [`peridio products list --search "name:'gateway'" --output table`],
      run: async (ctx) => {
        const page = await ctx.client().releases.listProducts(listParams(ctx.flags));
        return list('products', page.items, page.next_page, COLUMNS);
      },
    },
  ],
};
