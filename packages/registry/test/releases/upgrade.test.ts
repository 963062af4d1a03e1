import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { startTestRegistry } from '../support.js';
import { startWorld } from './world.js';

// Access, audit and webhooks (the last migration); its indexes on events go with them.
const ACCESS_TABLES = ['webhook_cursor', 'webhook_deliveries', 'webhooks', 'api_keys'];
const ACCESS_INDEXES = ['events_inserted_at', 'events_actor'];
const RELEASE_TABLES = [
  'events',
  'bundle_override_devices',
  'bundle_overrides',
  'release_claims',
  'releases',
  'bundle_signatures',
  'bundle_binaries',
  'bundles',
  'devices',
  'cohorts',
  'products',
];

const LISTS = [
  '/products',
  '/cohorts',
  '/devices',
  '/bundles',
  '/releases',
  '/bundle_overrides',
  '/events?limit=100',
];

describe('release management data on disk', () => {
  it('a restart keeps products, cohorts, devices, bundles, releases, overrides, claims and events', async () => {
    const w = await startWorld();
    const bin = await w.signedBinary();
    const bundle = await w.bundle([bin.prn]);
    const base = await w.release(bundle.prn);
    const phased = await w.release(bundle.prn, { phase_value: 2 });
    const devices = [await w.device(), await w.device(), await w.device()];
    const first = await Promise.all(devices.map((d) => w.check(d.prn, { release_prn: base.prn })));
    const o = (
      await w.t.api('POST', '/bundle_overrides', {
        bundle_prn: bundle.prn,
        name: 'o',
        starts_at: '2099-01-01T00:00:00Z',
      })
    ).body.bundle_override;
    const before = await Promise.all(LISTS.map((p) => w.t.api('GET', p)));
    await w.t.close({ keepData: true });

    const t2 = await startTestRegistry({ dataDir: w.t.dataDir, apiKey: w.t.apiKey });
    try {
      const after = await Promise.all(LISTS.map((p) => t2.api('GET', p)));
      expect(after.map((r) => r.body)).toEqual(before.map((r) => r.body));
      // Claims survive: the same two devices are still the admitted ones, the third still waits.
      const again = await Promise.all(
        devices.map((d) => t2.api('POST', `/devices/${d.prn}/update`, { release_prn: base.prn })),
      );
      expect(again.map((r) => r.body.status)).toEqual(first.map((r) => r.status));
      expect(first.filter((r) => r.status === 'update')).toHaveLength(2);
      expect((await t2.api('GET', `/bundle_overrides/${o.prn}`)).status).toBe(200);
      expect((await t2.api('GET', `/releases/${phased.prn}`)).body.release.phase_value).toBe(2);
    } finally {
      await t2.close();
    }
  });

  // Schema 1: the original registry. Schema 2: the data layer's content_garbage, before release management.
  for (const [schema, dropped] of [
    [1, [...RELEASE_TABLES, 'content_garbage', 'leases', 'multipart_uploads', ...ACCESS_TABLES]],
    [2, [...RELEASE_TABLES, 'leases', 'multipart_uploads', ...ACCESS_TABLES]],
    [5, [...RELEASE_TABLES, ...ACCESS_TABLES]],
    [6, ACCESS_TABLES],
  ] as const) {
    it(`a schema-${schema} data dir (an older registry) upgrades in place and keeps every binary`, async () => {
      const w = await startWorld();
      const bins = [await w.signedBinary(), await w.signedBinary()];
      const listed = (await w.t.api('GET', '/binaries?limit=100')).body;
      await w.t.close({ keepData: true });

      // Make it the data dir that registry version wrote: the later migrations' tables are not there yet.
      const db = new DatabaseSync(join(w.t.dataDir, 'registry.db'));
      for (const table of dropped) db.exec(`DROP TABLE ${table}`);
      if (schema < 5) db.exec('DROP INDEX binaries_version_target');
      for (const index of ACCESS_INDEXES) db.exec(`DROP INDEX IF EXISTS ${index}`);
      db.exec('DROP INDEX IF EXISTS signing_keys_value');
      db.exec(`PRAGMA user_version = ${schema}`);
      db.close();

      const t2 = await startTestRegistry({ dataDir: w.t.dataDir, apiKey: w.t.apiKey });
      try {
        const version = new DatabaseSync(join(w.t.dataDir, 'registry.db'), { readOnly: true });
        expect((version.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(
          MIGRATIONS.length,
        );
        const tables = version
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
          .all()
          .map((r) => (r as { name: string }).name);
        version.close();
        expect(MIGRATIONS.length).toBe(8);
        expect(tables).toEqual(
          expect.arrayContaining(['content_garbage', ...RELEASE_TABLES, ...ACCESS_TABLES]),
        );
        expect((await t2.api('GET', '/binaries?limit=100')).body).toEqual(listed);
        for (const b of bins) {
          const url = (await t2.api('GET', `/binaries/${b.prn}/download_url`)).body.download_url;
          expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(b.content)).toBe(true);
        }
        // And the upgraded dir does release management with those binaries.
        const bundle = await t2.api('POST', '/bundles', { binaries: bins.map((b) => ({ prn: b.prn })) });
        expect(bundle.status).toBe(201);
      } finally {
        await t2.close();
      }
    });
  }
});
