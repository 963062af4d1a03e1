import '../quiet-sqlite.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphError, placeNew } from '../../src/releases/graph.js';
import { PgStore } from '../../src/store/pg/pg-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { TakenError, type ReleaseStore } from '../../src/releases/store.js';
import { describeWithServices, freshDatabase } from '../../../../test/services/services.js';
import { newDevice, release } from './fixtures.js';

/**
 * The ReleaseStore contract, run against SQLite and PostgreSQL. Each test works in an organization of its
 * own, so the tests of one database do not see each other's records.
 */
interface Opened {
  store: Store;
  cleanup(): Promise<void>;
}

const claimEvent = () => ({
  type: 'device' as const,
  subtype: 'claimed_release',
  resource_prn: null,
  actor_prn: null,
  data: {},
});

async function cohortWithDevices(store: ReleaseStore, n: number) {
  const product = await store.createProduct({ name: `p-${randomUUID()}`, archived: false });
  const cohort = await store.createCohort({ product_id: product.id, name: 'c', description: null });
  const devices = [];
  for (let i = 0; i < n; i++) devices.push(await store.createDevice(newDevice(product.id, cohort.id)));
  const bundle = (await store.createBundle({ id: randomUUID(), name: null, hash: 'h', binaries: [] })).bundle;
  return { product, cohort, devices, bundle };
}

function describeReleaseStore(name: string, open: () => Promise<Opened>) {
  describe(name, () => {
    let opened: Opened;
    let store: ReleaseStore;
    beforeAll(async () => {
      opened = await open();
    });
    afterAll(async () => opened?.cleanup());
    beforeEach(() => {
      store = opened.store.releaseStore(randomUUID());
    });

    it('a taken product name or device identifier is a TakenError naming the field', async () => {
      const product = await store.createProduct({ name: 'same', archived: false });
      await expect(store.createProduct({ name: 'same', archived: false })).rejects.toEqual(
        new TakenError('name'),
      );
      const other = await store.createProduct({ name: 'other', archived: false });
      await expect(store.updateProduct(other.id, { name: 'same' })).rejects.toEqual(new TakenError('name'));
      expect(await store.updateProduct(other.id, { archived: true })).toMatchObject({
        name: 'other',
        archived: true,
      });
      await store.createDevice(newDevice(product.id, null, 'serial-1'));
      await expect(store.createDevice(newDevice(product.id, null, 'serial-1'))).rejects.toEqual(
        new TakenError('identifier'),
      );
    });

    it('records come back as the API sees them: flags as booleans, JSON parsed, no bookkeeping columns', async () => {
      const product = await store.createProduct({ name: 'flags', archived: false });
      expect(Object.keys(product).sort()).toEqual(['archived', 'id', 'inserted_at', 'name', 'updated_at']);
      expect(product.archived).toBe(false);
      const device = await store.createDevice({
        ...newDevice(product.id, null),
        quarantined: true,
        tags: ['a', 'b'],
      });
      expect(device).toMatchObject({ quarantined: true, tags: ['a', 'b'], last_connected_at: null });
      const patched = await store.updateDevice(device.id, { tags: null, description: 'x' });
      expect(patched).toMatchObject({ quarantined: true, tags: null, description: 'x' });
      const cohort = await store.createCohort({ product_id: product.id, name: 'c', description: 'd' });
      expect((await store.updateCohort(cohort.id, { name: 'c2' })).description).toBe('d');
      expect((await store.updateCohort(cohort.id, { description: null })).description).toBeNull();
      const bundle = await store.createBundle({ id: randomUUID(), name: null, hash: 'h', binaries: [] });
      const r = release(randomUUID(), {
        cohort_id: cohort.id,
        bundle_id: bundle.bundle.id,
        phase_mode: 'tags',
        phase_tags: ['beta'],
        phase_value: 0.25,
        required: true,
      });
      await store.withCohortReleases(cohort.id, () => ({ create: r, links: [], result: r }));
      expect(await store.getRelease(r.id)).toEqual(r);
    });

    it('lists page in insertion order in either direction and search by name', async () => {
      for (const n of ['alpha', 'beta', 'gamma', 'delta', 'epsilon'])
        await store.createProduct({ name: n, archived: n === 'beta' });
      const first = await store.listProducts(new URLSearchParams('limit=2'));
      expect(first.items.map((p) => p.name)).toEqual(['alpha', 'beta']);
      const second = await store.listProducts(new URLSearchParams({ page: first.next_page!, limit: '2' }));
      expect(second.items.map((p) => p.name)).toEqual(['gamma', 'delta']);
      const desc = await store.listProducts(new URLSearchParams('order=desc&limit=1'));
      expect(desc.items.map((p) => p.name)).toEqual(['epsilon']);
      const found = await store.listProducts(new URLSearchParams({ search: "name~'lt'" }));
      expect(found.items.map((p) => p.name)).toEqual(['delta']);
      const archived = await store.listProducts(new URLSearchParams({ search: 'archived:true' }));
      expect(archived.items.map((p) => p.name)).toEqual(['beta']);
    });

    it('a bundle id is one bundle: again → the same one, not created; in another organization → taken', async () => {
      const id = randomUUID();
      const binaries = [
        { binary_id: randomUUID(), custom_metadata: { a: 1 } },
        { binary_id: randomUUID(), custom_metadata: {} },
      ];
      const first = await store.createBundle({ id, name: 'b', hash: 'h', binaries });
      expect(first.created).toBe(true);
      expect(first.bundle.binaries).toEqual(binaries);
      const again = await store.createBundle({ id, name: 'other', hash: 'h2', binaries: [] });
      expect(again).toEqual({ bundle: first.bundle, created: false });
      const elsewhere = opened.store.releaseStore(randomUUID());
      await expect(elsewhere.createBundle({ id, name: null, hash: 'h', binaries })).rejects.toEqual(
        new TakenError('id'),
      );
      expect((await store.listBundles(new URLSearchParams())).items).toEqual([first.bundle]);
    });

    it('a signature per bundle and key, and a membership per override and device, are each made once', async () => {
      const { product, bundle } = await cohortWithDevices(store, 0);
      const sig = { bundle_id: bundle.id, signing_key_id: randomUUID(), keyid: 'k', signature: 's' };
      const a = await store.createBundleSignature(sig);
      expect(a.created).toBe(true);
      expect(await store.createBundleSignature({ ...sig, signature: 'other' })).toEqual({
        signature: a.signature,
        created: false,
      });
      const override = await store.createOverride({
        bundle_id: bundle.id,
        name: 'o',
        description: null,
        starts_at: '2026-01-01T00:00:00.000000Z',
        ends_at: null,
      });
      const device = await store.createDevice(newDevice(product.id, null));
      const m = await store.addOverrideDevice(override.id, device.id);
      expect(m.created).toBe(true);
      expect(await store.addOverrideDevice(override.id, device.id)).toEqual({
        device: m.device,
        created: false,
      });
      expect((await store.listOverrideDevices(override.id, new URLSearchParams())).items).toEqual([m.device]);
      expect(await store.overridesOfDevice(device.id)).toEqual([override]);
      expect(await store.deleteBundle(bundle.id)).toEqual({
        deleted: false,
        releases: [],
        overrides: [override.id],
      });
    });

    it('claimPhaseSlot admits exactly the limit under 100 concurrent callers, once per device', async () => {
      const { cohort, devices, bundle } = await cohortWithDevices(store, 100);
      const r = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id, phase_value: 30 });
      await store.withCohortReleases(cohort.id, () => ({ create: r, links: [], result: r }));
      const results = await Promise.all(
        devices.map((d) => store.claimPhaseSlot(r, d.id, { kind: 'count', count: 30 }, claimEvent)),
      );
      expect(results.filter((x) => x.admitted)).toHaveLength(30);
      expect(results.filter((x) => x.claimed)).toHaveLength(30);
      const admitted = devices.filter((_, i) => results[i]!.admitted);
      const again = await store.claimPhaseSlot(r, admitted[0]!.id, { kind: 'count', count: 30 }, claimEvent);
      expect(again).toEqual({ admitted: true, claimed: false });
      const events = await store.listEvents(new URLSearchParams('subtype=claimed_release&limit=100'));
      expect(events.items).toHaveLength(30);
    });

    it('a share limit counts the cohort’s devices at claim time; wouldAdmit claims nothing', async () => {
      const { cohort, devices, bundle } = await cohortWithDevices(store, 10);
      const r = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id, phase_value: 0.2 });
      await store.withCohortReleases(cohort.id, () => ({ create: r, links: [], result: r }));
      const share = { kind: 'share' as const, share: 0.2 };
      for (let i = 0; i < 5; i++) expect(await store.wouldAdmit(r, devices[i]!.id, share)).toBe(true);
      const results = [];
      for (const d of devices)
        results.push((await store.claimPhaseSlot(r, d.id, share, claimEvent)).admitted);
      expect(results.filter(Boolean)).toHaveLength(2);
      expect(await store.wouldAdmit(r, devices[9]!.id, share)).toBe(false);
      expect(await store.wouldAdmit(r, devices[results.indexOf(true)]!.id, share)).toBe(true);
    });

    it('withCohortReleases applies nothing when the plan refuses', async () => {
      const { cohort, bundle } = await cohortWithDevices(store, 0);
      const a = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id, phase_value: 0.5 });
      await store.withCohortReleases(cohort.id, () => ({ create: a, links: [], result: a }));
      const b = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id });
      await expect(
        store.withCohortReleases(cohort.id, (releases) => {
          const links = placeNew(releases, b, {}, new Date());
          return { create: b, links, result: b };
        }),
      ).rejects.toBeInstanceOf(GraphError);
      expect((await store.cohortReleases(cohort.id)).map((r) => [r.id, r.next_release_id])).toEqual([
        [a.id, null],
      ]);
    });

    it('reportDeviceState stores the triple at once and appends the event built from the previous one', async () => {
      const { devices } = await cohortWithDevices(store, 1);
      const triple = { release_prn: 'prn:r', bundle_prn: 'prn:b', release_version: '1.0.0' };
      const first = await store.reportDeviceState(devices[0]!.id, triple, (previous) => ({
        type: 'device',
        subtype: 'release_changed',
        resource_prn: null,
        actor_prn: null,
        data: { previous },
      }));
      expect(first.previous).toEqual({ release_prn: null, bundle_prn: null, release_version: null });
      expect(first.device.reported).toEqual(triple);
      expect(first.device.last_connected_at).not.toBeNull();
      const events = await store.listEvents(new URLSearchParams('subtype=release_changed'));
      expect(events.items.map((e) => e.data)).toEqual([{ previous: first.previous }]);
    });

    it('events filter by type, subtype and time, and refuse what they cannot filter by', async () => {
      const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await store.appendEvent({ ...claimEvent(), subtype: 'connected', data: { n: 1 } });
      await store.appendEvent({ ...claimEvent(), data: { n: 2 } });
      const claimed = await store.listEvents(new URLSearchParams('type=device&subtype=claimed_release'));
      expect(claimed.items.map((e) => e.data)).toEqual([{ n: 2 }]);
      const since = await store.listEvents(new URLSearchParams({ inserted_at_gte: at }));
      expect(since.items).toHaveLength(2);
      const before = await store.listEvents(new URLSearchParams({ inserted_at_lt: at }));
      expect(before.items).toHaveLength(0);
      await expect(store.listEvents(new URLSearchParams('subtype=nope'))).rejects.toThrow();
      await expect(store.listEvents(new URLSearchParams('search=x'))).rejects.toThrow();
    });

    it('deleteBundle refuses while a release uses the bundle, naming it', async () => {
      const { cohort, bundle } = await cohortWithDevices(store, 0);
      const r = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id });
      await store.withCohortReleases(cohort.id, () => ({ create: r, links: [], result: r }));
      expect(await store.deleteBundle(bundle.id)).toEqual({
        deleted: false,
        releases: [r.id],
        overrides: [],
      });
      expect(await store.getBundle(bundle.id)).toBeDefined();
      const unused = await store.createBundle({ id: randomUUID(), name: null, hash: 'h', binaries: [] });
      expect(await store.deleteBundle(unused.bundle.id)).toEqual({ deleted: true });
      expect(await store.getBundle(unused.bundle.id)).toBeUndefined();
    });
  });
}

describeReleaseStore('SqliteReleaseStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'release-store-'));
  const store = new SqliteStore(join(dir, 'registry.db'));
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

// What the SQLite store keeps between calls (a cohort's releases) and how it groups claims: its own.
describe('SqliteReleaseStore, kept releases and grouped claims', () => {
  const ORG = '11111111-1111-4111-8111-111111111111';
  let dir: string;
  let db: SqliteStore;
  let store: ReleaseStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'release-store-'));
    db = new SqliteStore(join(dir, 'registry.db'));
    store = db.releaseStore(ORG);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cohortReleases sees every change: through withCohortReleases, another store on the connection, another connection', async () => {
    const { cohort, bundle } = await cohortWithDevices(store, 0);
    const a = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id });
    await store.withCohortReleases(cohort.id, () => ({ create: a, links: [], result: a }));
    expect((await store.cohortReleases(cohort.id)).map((r) => r.disabled)).toEqual([false]);
    // Read twice (the second from what was kept), then changed by a second store over the same connection.
    expect((await store.cohortReleases(cohort.id)).map((r) => r.disabled)).toEqual([false]);
    const other = db.releaseStore(ORG);
    const disabled = { ...a, disabled: true };
    await other.withCohortReleases(cohort.id, () => ({ update: disabled, links: [], result: a }));
    expect((await store.cohortReleases(cohort.id)).map((r) => r.disabled)).toEqual([true]);
    // Another process's connection (an admin command, say) commits a change to the same file.
    const outside = new DatabaseSync(join(dir, 'registry.db'));
    try {
      outside.prepare('UPDATE releases SET disabled = 0 WHERE id = ?').run(a.id);
    } finally {
      outside.close();
    }
    expect((await store.cohortReleases(cohort.id)).map((r) => r.disabled)).toEqual([false]);
    // What it returns is the caller's: changing it changes nothing kept.
    (await store.cohortReleases(cohort.id)).pop();
    expect(await store.cohortReleases(cohort.id)).toHaveLength(1);
  });

  it('claims made at once share one transaction and each is decided as alone, in order', async () => {
    const { cohort, devices, bundle } = await cohortWithDevices(store, 5);
    const r = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id, phase_value: 3 });
    await store.withCohortReleases(cohort.id, () => ({ create: r, links: [], result: r }));
    const limit = { kind: 'count' as const, count: 3 };
    const order = [0, 1, 0, 2, 3, 4].map((i) => devices[i]!.id);
    const results = await Promise.all(order.map((id) => store.claimPhaseSlot(r, id, limit, claimEvent)));
    expect(results).toEqual([
      { admitted: true, claimed: true },
      { admitted: true, claimed: true },
      { admitted: true, claimed: false },
      { admitted: true, claimed: true },
      { admitted: false, claimed: false },
      { admitted: false, claimed: false },
    ]);
  });
});

describeWithServices('PgReleaseStore', (env) => {
  describeReleaseStore('the ReleaseStore contract on PostgreSQL', async () => {
    const db = await freshDatabase(env.PERIDIO_REGISTRY_DATABASE_URL!);
    const store = await PgStore.open({ url: db.url });
    return {
      store,
      async cleanup() {
        await store.close();
        await db.drop();
      },
    };
  });

  // Two stores on one database are two registry instances: each has its own pool, so only the database
  // keeps the rules between them.
  describe('across two instances on one database', () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let a: PgStore;
    let b: PgStore;
    let org: string;
    const both = () => [a.releaseStore(org), b.releaseStore(org)] as const;
    beforeAll(async () => {
      db = await freshDatabase(env.PERIDIO_REGISTRY_DATABASE_URL!);
      [a, b] = await Promise.all([PgStore.open({ url: db.url }), PgStore.open({ url: db.url })]);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await db?.drop();
    });
    beforeEach(() => {
      org = randomUUID();
    });

    it('claims split over both stay exact, and one device checking in on both at once claims once', async () => {
      const [sa, sb] = both();
      const { cohort, devices, bundle } = await cohortWithDevices(sa, 100);
      const r = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id, phase_value: 30 });
      await sa.withCohortReleases(cohort.id, () => ({ create: r, links: [], result: r }));
      const limit = { kind: 'count' as const, count: 30 };
      // Every device asks through both instances at once.
      const results = await Promise.all(
        devices.map((d) =>
          Promise.all([
            sa.claimPhaseSlot(r, d.id, limit, claimEvent),
            sb.claimPhaseSlot(r, d.id, limit, claimEvent),
          ]),
        ),
      );
      const admitted = results.filter(([x, y]) => x.admitted || y.admitted);
      expect(admitted).toHaveLength(30);
      // Both answers agree for every device, and exactly one of an admitted device's two calls claimed.
      for (const [x, y] of results) expect(x.admitted).toBe(y.admitted);
      for (const [x, y] of admitted) expect(Number(x.claimed) + Number(y.claimed)).toBe(1);
      const events = await sb.listEvents(new URLSearchParams('subtype=claimed_release&limit=100'));
      expect(events.items).toHaveLength(30);
    });

    it('releases created at once through both form one chain with one latest release', async () => {
      const [sa, sb] = both();
      const { cohort, bundle } = await cohortWithDevices(sa, 0);
      const created = await Promise.all(
        Array.from({ length: 12 }, (_, i) => {
          const fresh = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id });
          return (i % 2 ? sa : sb).withCohortReleases(cohort.id, (releases) => ({
            create: fresh,
            links: placeNew(releases, fresh, {}, new Date()),
            result: fresh,
          }));
        }),
      );
      const graph = await sb.cohortReleases(cohort.id);
      expect(graph).toHaveLength(12);
      const sinks = graph.filter((r) => r.next_release_id === null);
      expect(sinks).toHaveLength(1);
      // Following next from the one release nothing points at visits all twelve.
      const byId = new Map(graph.map((r) => [r.id, r]));
      const pointed = new Set(graph.map((r) => r.next_release_id));
      let at = graph.find((r) => !pointed.has(r.id));
      const walk: string[] = [];
      while (at) {
        walk.push(at.id);
        at = at.next_release_id ? byId.get(at.next_release_id) : undefined;
      }
      expect(new Set(walk)).toEqual(new Set(created.map((r) => r.id)));
    });

    it('one product name, one device identifier and one bundle per id, however many race for them', async () => {
      const [sa, sb] = both();
      const pick = (i: number) => (i % 2 ? sa : sb);
      const products = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => pick(i).createProduct({ name: 'raced', archived: false })),
      );
      expect(products.filter((p) => p.status === 'fulfilled')).toHaveLength(1);
      for (const p of products) if (p.status === 'rejected') expect(p.reason).toEqual(new TakenError('name'));
      const product = (
        products.find((p) => p.status === 'fulfilled') as PromiseFulfilledResult<{ id: string }>
      ).value;
      const devices = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          pick(i).createDevice(newDevice(product.id, null, 'serial-raced')),
        ),
      );
      expect(devices.filter((p) => p.status === 'fulfilled')).toHaveLength(1);
      const id = randomUUID();
      const binaries = [{ binary_id: randomUUID(), custom_metadata: {} }];
      const bundles = await Promise.all(
        Array.from({ length: 8 }, (_, i) => pick(i).createBundle({ id, name: null, hash: 'h', binaries })),
      );
      expect(bundles.filter((x) => x.created)).toHaveLength(1);
      for (const x of bundles) expect(x.bundle.binaries).toEqual(binaries);
    });

    it('reports of one device through both at once each see another report as their previous one', async () => {
      const [sa, sb] = both();
      const { devices } = await cohortWithDevices(sa, 1);
      const versions = Array.from({ length: 20 }, (_, i) => `1.0.${i}`);
      await Promise.all(
        versions.map((v, i) =>
          (i % 2 ? sa : sb).reportDeviceState(
            devices[0]!.id,
            { release_prn: null, bundle_prn: null, release_version: v },
            (previous) => ({ ...claimEvent(), subtype: 'release_changed', data: { previous } }),
          ),
        ),
      );
      const events = await sa.listEvents(new URLSearchParams('subtype=release_changed&limit=100'));
      const previous = events.items.map(
        (e) => (e.data.previous as { release_version: string | null }).release_version,
      );
      // A chain: each version was the previous one of exactly one later report, and only one saw none.
      expect(previous).toHaveLength(20);
      expect(new Set(previous).size).toBe(20);
      expect(previous.filter((v) => v === null)).toHaveLength(1);
    });
  });
});
