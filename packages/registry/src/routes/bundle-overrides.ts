import { requiredString } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import type { ReleaseDeps } from '../releases/deps.js';
import { nullableString, optionalDateTime, requiredDateTime } from '../releases/fields.js';
import { overrideDeviceJson, overrideJson } from '../releases/json.js';
import { bodyId, pathId, requiredBodyId } from '../releases/prn.js';
import type { OverrideRecord } from '../releases/types.js';
import type { Route } from '../router.js';

function checkWindow(o: Pick<OverrideRecord, 'starts_at' | 'ends_at'>) {
  if (o.ends_at !== null && Date.parse(o.ends_at) <= Date.parse(o.starts_at))
    throw fieldError('ends_at', `must be after starts_at (${o.starts_at})`);
}

/** Bundle overrides: a bundle for chosen devices during a time window, ahead of any release. */
export function bundleOverrideRoutes(d: ReleaseDeps): Route[] {
  const get = async (value: string) => {
    const row = await d.store.getOverride(pathId(d.org, value, 'bundle_override'));
    if (!row) throw notFound();
    return row;
  };
  const checkBundle = async (input: Record<string, unknown>, id: string) => {
    if (!(await d.store.getBundle(id))) throw notFound(`bundle_prn ${String(input.bundle_prn)}`);
  };
  return [
    {
      method: 'POST',
      pattern: '/bundle_overrides',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const bundleId = requiredBodyId(d.org, input, 'bundle_prn', 'bundle');
        const record = {
          bundle_id: bundleId,
          name: requiredString(input, 'name', 128),
          description: nullableString(input, 'description', 256) ?? null,
          starts_at: requiredDateTime(input, 'starts_at'),
          ends_at: optionalDateTime(input, 'ends_at') ?? null,
        };
        checkWindow(record);
        await checkBundle(input, bundleId);
        const row = await d.store.createOverride(record);
        return { status: 201, body: { bundle_override: overrideJson(d.org, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/bundle_overrides',
      auth: true,
      async handler({ query }) {
        const page = await d.store.listOverrides(query);
        return {
          status: 200,
          body: {
            bundle_overrides: page.items.map((r) => overrideJson(d.org, r)),
            next_page: page.next_page,
          },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/bundle_overrides/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { bundle_override: overrideJson(d.org, await get(params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/bundle_overrides/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await get(params.prn!);
        const input = await body();
        const patch: Partial<OverrideRecord> = {};
        const bundleId = bodyId(d.org, input, 'bundle_prn', 'bundle');
        if (bundleId !== undefined) {
          await checkBundle(input, bundleId);
          patch.bundle_id = bundleId;
        }
        if (input.name !== undefined && input.name !== null) patch.name = requiredString(input, 'name', 128);
        const description = nullableString(input, 'description', 256);
        if (description !== undefined) patch.description = description;
        const startsAt = optionalDateTime(input, 'starts_at');
        if (startsAt !== undefined) patch.starts_at = startsAt;
        if ('ends_at' in input) patch.ends_at = optionalDateTime(input, 'ends_at') ?? null;
        checkWindow({ ...existing, ...patch });
        const row = await d.store.updateOverride(existing.id, patch);
        return { status: 200, body: { bundle_override: overrideJson(d.org, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/bundle_overrides/:prn',
      auth: true,
      async handler({ params }) {
        const existing = await get(params.prn!);
        await d.store.deleteOverride(existing.id);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      pattern: '/bundle_overrides/:prn/devices',
      auth: true,
      async handler({ params, body }) {
        const existing = await get(params.prn!);
        const input = await body();
        const deviceId = requiredBodyId(d.org, input, 'device_prn', 'device');
        if (!(await d.store.getDevice(deviceId))) throw notFound(`device_prn ${String(input.device_prn)}`);
        const { device, created } = await d.store.addOverrideDevice(existing.id, deviceId);
        return { status: created ? 201 : 200, body: { device: overrideDeviceJson(d.org, device) } };
      },
    },
    {
      method: 'GET',
      pattern: '/bundle_overrides/:prn/devices',
      auth: true,
      async handler({ params, query }) {
        const existing = await get(params.prn!);
        const page = await d.store.listOverrideDevices(existing.id, query);
        return {
          status: 200,
          body: { devices: page.items.map((r) => overrideDeviceJson(d.org, r)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'DELETE',
      pattern: '/bundle_overrides/:prn/devices/:device',
      auth: true,
      async handler({ params }) {
        const existing = await get(params.prn!);
        const deviceId = pathId(d.org, params.device!, 'device');
        if (!(await d.store.removeOverrideDevice(existing.id, deviceId))) throw notFound();
        return { status: 204 };
      },
    },
  ];
}
