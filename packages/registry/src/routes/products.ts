import { optionalString, requiredString } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import type { ReleaseDeps } from '../releases/deps.js';
import { optionalBoolean } from '../releases/fields.js';
import { productJson } from '../releases/json.js';
import { pathId } from '../releases/prn.js';
import { TakenError } from '../store/release-store.js';
import type { Route } from '../router.js';

/** Products (no DELETE in Peridio: archive instead). Single objects come as `{"product": …}`, as the SDK reads. */
export function productRoutes(d: ReleaseDeps): Route[] {
  const get = async (value: string) => {
    const row = await d.store.getProduct(pathId(d.org, value, 'product'));
    if (!row) throw notFound();
    return row;
  };
  const taken = (err: unknown): never => {
    if (err instanceof TakenError)
      throw fieldError('name', 'has already been taken: product names are unique in the organization');
    throw err;
  };
  return [
    {
      method: 'POST',
      pattern: '/products',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const name = requiredString(input, 'name', 256);
        const archived = optionalBoolean(input, 'archived') ?? false;
        const row = await d.store.createProduct({ name, archived }).catch(taken);
        return { status: 201, body: { product: productJson(d.org, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/products',
      auth: true,
      async handler({ query }) {
        const page = await d.store.listProducts(query);
        return {
          status: 200,
          body: { products: page.items.map((r) => productJson(d.org, r)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/products/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { product: productJson(d.org, await get(params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/products/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await get(params.prn!);
        const input = await body();
        const name = optionalString(input, 'name', 256);
        const archived = optionalBoolean(input, 'archived');
        const row = await d.store.updateProduct(existing.id, { name, archived }).catch(taken);
        return { status: 200, body: { product: productJson(d.org, row) } };
      },
    },
  ];
}
