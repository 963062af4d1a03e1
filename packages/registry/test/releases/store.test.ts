import '../quiet-sqlite.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GraphError, placeNew } from '../../src/releases/graph.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TakenError, type ReleaseStore } from '../../src/releases/store.js';
import { release } from './fixtures.js';

/**
 * The ReleaseStore contract, run against the SQLite implementation. Another implementation (PostgreSQL)
 * should pass the same tests.
 */
const ORG = '11111111-1111-4111-8111-111111111111';

describe('SqliteReleaseStore', () => {
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

  async function cohortWithDevices(n: number) {
    const product = await store.createProduct({ name: `p-${randomUUID()}`, archived: false });
    const cohort = await store.createCohort({ product_id: product.id, name: 'c', description: null });
    const devices = [];
    for (let i = 0; i < n; i++) {
      devices.push(
        await store.createDevice({
          product_id: product.id,
          cohort_id: cohort.id,
          identifier: `d-${randomUUID()}`,
          description: null,
          quarantined: false,
          tags: null,
          target: null,
        }),
      );
    }
    const bundle = (await store.createBundle({ id: randomUUID(), name: null, hash: 'h', binaries: [] }))
      .bundle;
    return { product, cohort, devices, bundle };
  }

  const claimEvent = () => ({
    type: 'device' as const,
    subtype: 'claimed_release',
    resource_prn: null,
    actor_prn: null,
    data: {},
  });

  it('a taken product name is a TakenError naming the field', async () => {
    await store.createProduct({ name: 'same', archived: false });
    await expect(store.createProduct({ name: 'same', archived: false })).rejects.toEqual(
      new TakenError('name'),
    );
  });

  it('claimPhaseSlot admits exactly the limit under 100 concurrent callers, once per device', async () => {
    const { cohort, devices, bundle } = await cohortWithDevices(100);
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
    const { cohort, devices, bundle } = await cohortWithDevices(10);
    const r = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id, phase_value: 0.2 });
    await store.withCohortReleases(cohort.id, () => ({ create: r, links: [], result: r }));
    const share = { kind: 'share' as const, share: 0.2 };
    for (let i = 0; i < 5; i++) expect(await store.wouldAdmit(r, devices[i]!.id, share)).toBe(true);
    const results = [];
    for (const d of devices) results.push((await store.claimPhaseSlot(r, d.id, share, claimEvent)).admitted);
    expect(results.filter(Boolean)).toHaveLength(2);
    expect(await store.wouldAdmit(r, devices[9]!.id, share)).toBe(false);
  });

  it('cohortReleases sees every change: through withCohortReleases, another store on the connection, another connection', async () => {
    const { cohort, bundle } = await cohortWithDevices(0);
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
    const { cohort, devices, bundle } = await cohortWithDevices(5);
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

  it('withCohortReleases applies nothing when the plan refuses', async () => {
    const { cohort, bundle } = await cohortWithDevices(0);
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
    const { devices } = await cohortWithDevices(1);
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
    const events = await store.listEvents(new URLSearchParams('subtype=release_changed'));
    expect(events.items.map((e) => e.data)).toEqual([{ previous: first.previous }]);
  });

  it('deleteBundle refuses while a release uses the bundle, naming it', async () => {
    const { cohort, bundle } = await cohortWithDevices(0);
    const r = release(randomUUID(), { cohort_id: cohort.id, bundle_id: bundle.id });
    await store.withCohortReleases(cohort.id, () => ({ create: r, links: [], result: r }));
    expect(await store.deleteBundle(bundle.id)).toEqual({ deleted: false, releases: [r.id], overrides: [] });
    expect(await store.getBundle(bundle.id)).toBeDefined();
  });
});
