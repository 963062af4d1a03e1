import { list, one } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { defined } from './artifacts.js';
import { bool, BOOL_CHOICES, LIST_FLAGS, listParams, prnFlag, str } from './common.js';

const COLUMNS = ['prn', 'name', 'archived'];

export const products: ResourceSpec = {
  name: 'products',
  summary: 'Products: a kind of device; cohorts and devices belong to one',
  verbs: [
    {
      name: 'create',
      summary: 'Create a product',
      flags: [
        { name: 'name', required: true, description: 'Product name, unique in the organization' },
        { name: 'archived', choices: BOOL_CHOICES, description: 'true: created archived' },
      ],
      examples: ['PRODUCT_PRN=$(peridio products create --name gateway --output prn)'],
      run: async (ctx) =>
        one(
          'product',
          await ctx.client().releases.createProduct({
            name: str(ctx.flags, 'name')!,
            ...defined('archived', bool(ctx.flags, 'archived')),
          }),
          COLUMNS,
        ),
    },
    {
      name: 'get',
      summary: 'Show one product',
      flags: [prnFlag('product')],
      examples: ['peridio products get --prn "$PRODUCT_PRN" --output table'],
      run: async (ctx) =>
        one('product', await ctx.client().releases.getProduct(str(ctx.flags, 'prn')!), COLUMNS),
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
    {
      name: 'update',
      summary: 'Rename a product, or archive it',
      flags: [
        prnFlag('product'),
        { name: 'name', description: 'New name, unique in the organization' },
        { name: 'archived', choices: BOOL_CHOICES, description: 'true: archive the product' },
      ],
      examples: ['peridio products update --prn "$PRODUCT_PRN" --name gateway-v2 --output table'],
      run: async (ctx) =>
        one(
          'product',
          await ctx.client().releases.updateProduct(str(ctx.flags, 'prn')!, {
            ...defined('name', str(ctx.flags, 'name')),
            ...defined('archived', bool(ctx.flags, 'archived')),
          }),
          COLUMNS,
        ),
    },
  ],
};
