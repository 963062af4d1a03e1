import { optionalString, requiredString } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import type { ReleaseDeps } from '../releases/deps.js';
import { nullableString, optionalBoolean, optionalTags } from '../releases/fields.js';
import { deviceJson } from '../releases/json.js';
import { bodyId, pathId, requiredBodyId } from '../releases/prn.js';
import { TakenError } from '../store/release-store.js';
import type { Route } from '../router.js';

/** Devices: the identity, cohort, tags and quarantine flag resolution reads, plus the reported triple. */
export function deviceRoutes(d: ReleaseDeps): Route[] {
  const get = async (value: string) => {
    const row = await d.store.getDevice(pathId(d.org, value, 'device'));
    if (!row) throw notFound();
    return row;
  };
  /** The cohort must exist and belong to the device's product. */
  const checkCohort = async (input: Record<string, unknown>, cohortId: string, productId: string) => {
    const cohort = await d.store.getCohort(cohortId);
    if (!cohort) throw notFound(`cohort_prn ${String(input.cohort_prn)}`);
    if (cohort.product_id !== productId)
      throw fieldError('cohort_prn', "must be a cohort of the device's product (product_prn)");
  };
  return [
    {
      method: 'POST',
      pattern: '/devices',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const identifier = requiredString(input, 'identifier', 256);
        const productId = requiredBodyId(d.org, input, 'product_prn', 'product');
        const cohortId = bodyId(d.org, input, 'cohort_prn', 'cohort') ?? null;
        const description = optionalString(input, 'description', 256, { allowControl: true }) ?? null;
        const quarantined = optionalBoolean(input, 'quarantined') ?? false;
        const tags = optionalTags(input, 'tags') ?? null;
        const target = optionalString(input, 'target', 128) ?? null;
        if (!(await d.store.getProduct(productId)))
          throw notFound(`product_prn ${String(input.product_prn)}`);
        if (cohortId !== null) await checkCohort(input, cohortId, productId);
        const row = await d.store
          .createDevice({
            product_id: productId,
            cohort_id: cohortId,
            identifier,
            description,
            quarantined,
            tags,
            target,
          })
          .catch((err: unknown) => {
            if (err instanceof TakenError)
              throw fieldError(
                'identifier',
                'has already been taken: device identifiers are unique in the organization',
              );
            throw err;
          });
        return { status: 201, body: { device: deviceJson(d.org, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/devices',
      auth: true,
      async handler({ query }) {
        const page = await d.store.listDevices(query);
        return {
          status: 200,
          body: { devices: page.items.map((r) => deviceJson(d.org, r)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/devices/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { device: deviceJson(d.org, await get(params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/devices/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await get(params.prn!);
        const input = await body();
        const patch: Parameters<typeof d.store.updateDevice>[1] = {};
        if ('cohort_prn' in input) {
          const cohortId = bodyId(d.org, input, 'cohort_prn', 'cohort') ?? null;
          if (cohortId !== null) await checkCohort(input, cohortId, existing.product_id);
          patch.cohort_id = cohortId;
        }
        const description = nullableString(input, 'description', 256);
        if (description !== undefined) patch.description = description;
        const quarantined = optionalBoolean(input, 'quarantined');
        if (quarantined !== undefined) patch.quarantined = quarantined;
        if ('tags' in input) patch.tags = optionalTags(input, 'tags') ?? null;
        const target = nullableString(input, 'target', 128);
        if (target !== undefined) patch.target = target;
        const row = await d.store.updateDevice(existing.id, patch);
        return { status: 200, body: { device: deviceJson(d.org, row) } };
      },
    },
  ];
}
