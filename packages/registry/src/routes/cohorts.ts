import { optionalString, requiredString } from '../fields.js';
import { notFound } from '../http.js';
import type { ReleaseDeps } from '../releases/deps.js';
import { nullableString } from '../releases/fields.js';
import { cohortJson } from '../releases/json.js';
import { pathId, requiredBodyId } from '../releases/prn.js';
import type { Route } from '../router.js';

/** Cohorts: a product's group of devices with one release channel. PATCH takes name and description. */
export function cohortRoutes(d: ReleaseDeps): Route[] {
  const get = async (value: string) => {
    const row = await d.store.getCohort(pathId(d.org, value, 'cohort'));
    if (!row) throw notFound();
    return row;
  };
  return [
    {
      method: 'POST',
      pattern: '/cohorts',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const name = requiredString(input, 'name', 128);
        const productId = requiredBodyId(d.org, input, 'product_prn', 'product');
        const description = optionalString(input, 'description', 256) ?? null;
        if (!(await d.store.getProduct(productId)))
          throw notFound(`product_prn ${String(input.product_prn)}`);
        const row = await d.store.createCohort({ product_id: productId, name, description });
        return { status: 201, body: { cohort: cohortJson(d.org, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/cohorts',
      auth: true,
      async handler({ query }) {
        const page = await d.store.listCohorts(query);
        return {
          status: 200,
          body: { cohorts: page.items.map((r) => cohortJson(d.org, r)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/cohorts/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { cohort: cohortJson(d.org, await get(params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/cohorts/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await get(params.prn!);
        const input = await body();
        const name = optionalString(input, 'name', 128);
        const description = nullableString(input, 'description', 256);
        const patch = {
          ...(name !== undefined ? { name } : {}),
          ...(description !== undefined ? { description } : {}),
        };
        const row = await d.store.updateCohort(existing.id, patch);
        return { status: 200, body: { cohort: cohortJson(d.org, row) } };
      },
    },
  ];
}
