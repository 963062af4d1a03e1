import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogCache } from '../../src/releases/catalog-cache.js';
import type { CohortRecord } from '../../src/releases/types.js';
import { PgStore } from '../../src/store/pg/pg-store.js';
import { describeWithServices, freshDatabase } from '../../../../test/services/services.js';
import { newDevice, release } from './fixtures.js';

/** A store that counts its reads; `version` is what the test says the check saw. */
function fakeStore() {
  const reads: string[] = [];
  let fail = false;
  const store = {
    version: 1,
    reads,
    failNext: () => (fail = true),
    async getCohort(id: string) {
      reads.push(`cohort:${id}@${store.version}`);
      if (fail) {
        fail = false;
        throw new Error('connection reset');
      }
      return { id, name: `v${store.version}` } as CohortRecord;
    },
    cohortReleases: async () => [],
    getBundle: async () => undefined,
  };
  return store;
}
const noBinaries = { binary: async () => undefined };

describe('the update check’s catalog cache', () => {
  it('reads a record once while the catalog version stays, and again once it grows', async () => {
    const store = fakeStore();
    const cache = new CatalogCache(store, noBinaries);
    expect((await cache.view(1).getCohort('c'))?.name).toBe('v1');
    expect((await cache.view(1).getCohort('c'))?.name).toBe('v1');
    expect(store.reads).toEqual(['cohort:c@1']);
    store.version = 2;
    expect((await cache.view(2).getCohort('c'))?.name).toBe('v2');
    expect(store.reads).toEqual(['cohort:c@1', 'cohort:c@2']);
  });

  it('keeps a read begun under an older version out of the newer cache', async () => {
    const store = fakeStore();
    const cache = new CatalogCache(store, noBinaries);
    const old = cache.view(1);
    store.version = 2;
    const current = cache.view(2); // the cache starts again
    await old.getCohort('c');
    await current.getCohort('c');
    expect(store.reads).toEqual(['cohort:c@2', 'cohort:c@2']);
    // A check that saw an older version may use what was read under a newer one: it is at least as new.
    await cache.view(1).getCohort('c');
    expect(store.reads).toHaveLength(2);
  });

  it('does not keep a failed read', async () => {
    const store = fakeStore();
    const cache = new CatalogCache(store, noBinaries);
    store.failNext();
    await expect(cache.view(1).getCohort('c')).rejects.toThrow('connection reset');
    expect((await cache.view(1).getCohort('c'))?.name).toBe('v1');
    expect(store.reads).toHaveLength(2);
  });

  it('reads every check anew when the store has no catalog version, once per check', async () => {
    const store = fakeStore();
    const cache = new CatalogCache(store, noBinaries);
    const view = cache.view(undefined);
    await view.getCohort('c');
    await view.getCohort('c');
    await cache.view(undefined).getCohort('c');
    expect(store.reads).toHaveLength(2);
  });
});

describeWithServices('the catalog version on PostgreSQL', (env) => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let a: PgStore;
  let b: PgStore;
  beforeAll(async () => {
    db = await freshDatabase(env.PERIDIO_REGISTRY_DATABASE_URL!);
    [a, b] = await Promise.all([PgStore.open({ url: db.url }), PgStore.open({ url: db.url })]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db?.drop();
  });

  it('grows with a change committed on another instance, never with a phase claim', async () => {
    const org = randomUUID();
    const [sa, sb] = [a.releaseStore(org), b.releaseStore(org)];
    let deviceId = '';
    const version = async () => (await sb.deviceForCheck(deviceId))!.catalogVersion!;
    const product = await sa.createProduct({ name: 'p', archived: false });
    const cohort = await sa.createCohort({ product_id: product.id, name: 'c', description: null });
    const device = await sa.createDevice(newDevice(product.id, cohort.id));
    deviceId = device.id;
    const bundle = (await sa.createBundle({ id: randomUUID(), name: null, hash: 'h', binaries: [] })).bundle;
    let seen = await version();
    const r = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id, phase_value: 5 });
    await sa.withCohortReleases(cohort.id, () => ({ create: r, links: [], result: r }));
    expect(await version()).toBeGreaterThan(seen);

    seen = await version();
    const claimed = await sa.claimPhaseSlot(r, device.id, { kind: 'count', count: 5 }, () => ({
      type: 'device',
      subtype: 'claimed_release',
      resource_prn: null,
      actor_prn: null,
      data: {},
    }));
    expect(claimed).toEqual({ admitted: true, claimed: true });
    await sa.reportDeviceState(
      device.id,
      { release_prn: 'x', bundle_prn: null, release_version: null },
      () => undefined,
    );
    expect(await version()).toBe(seen);

    await sa.updateBundle(bundle.id, { name: 'renamed' });
    expect(await version()).toBeGreaterThan(seen);
  });

  it('does not grow before the change commits, so a reader never keeps rows older than the number it saw', async () => {
    const org = randomUUID();
    const store = b.releaseStore(org);
    const product = await store.createProduct({ name: 'p', archived: false });
    const device = await store.createDevice(newDevice(product.id, null));
    const version = async () => (await store.deviceForCheck(device.id))!.catalogVersion!;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const before = await version();
      await client.query('BEGIN');
      await client.query(
        "INSERT INTO artifacts (id, org, name, inserted_at, updated_at) VALUES ($1, $2, 'a', 'now', 'now')",
        [randomUUID(), org],
      );
      expect(await version()).toBe(before);
      await client.query('COMMIT');
      expect(await version()).toBe(before + 1);
    } finally {
      await client.end();
    }
  });

  it('reads the device, its overrides and the version in one round trip, as the separate reads give them', async () => {
    const org = randomUUID();
    const store = a.releaseStore(org);
    const product = await store.createProduct({ name: 'p', archived: false });
    const device = await store.createDevice({ ...newDevice(product.id, null), tags: ['x'], target: 'arm' });
    const bundle = (await store.createBundle({ id: randomUUID(), name: null, hash: 'h', binaries: [] }))
      .bundle;
    for (const name of ['first', 'second']) {
      const override = await store.createOverride({
        bundle_id: bundle.id,
        name,
        description: null,
        starts_at: '2026-01-01T00:00:00.000000Z',
        ends_at: null,
      });
      await store.addOverrideDevice(override.id, device.id);
    }
    const found = await store.deviceForCheck(device.id);
    expect(found?.device).toEqual(await store.getDevice(device.id));
    expect(found?.overrides).toEqual(await store.overridesOfDevice(device.id));
    expect(found?.overrides.map((o) => o.name)).toEqual(['first', 'second']);
    expect(await store.deviceForCheck(randomUUID())).toBeUndefined();
  });
});
