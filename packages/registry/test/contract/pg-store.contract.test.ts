import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../src/store/pg/pg-store.js';
import { describeWithServices, freshDatabase } from '../../../../test/services/services.js';
import { describeStoreContract } from './store-contract.js';

describeWithServices('PostgreSQL store', (env) => {
  describeStoreContract('PostgreSQL', async () => {
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

  describe('PgStore across instances', () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    beforeAll(async () => {
      db = await freshDatabase(env.PERIDIO_REGISTRY_DATABASE_URL!);
    });
    afterAll(async () => db.drop());

    it('two stores migrating one database at once apply the schema once', async () => {
      const [a, b] = await Promise.all([PgStore.open({ url: db.url }), PgStore.open({ url: db.url })]);
      expect(await a.meta.setIfAbsent('k', 'a')).toBe('a');
      expect(await b.meta.get('k')).toBe('a');
      await Promise.all([a.close(), b.close()]);
    });

    it('a lease is held by one owner at a time and taken over once it expires', async () => {
      const [a, b] = await Promise.all([PgStore.open({ url: db.url }), PgStore.open({ url: db.url })]);
      try {
        const claims = await Promise.all([a.leases.claim('w', 'A', 300), b.leases.claim('w', 'B', 300)]);
        expect(claims.filter(Boolean)).toHaveLength(1);
        const [winner, loser] = claims[0] ? [a, b] : [b, a];
        const [winnerName, loserName] = claims[0] ? ['A', 'B'] : ['B', 'A'];
        expect(await winner.leases.claim('w', winnerName, 300)).toBe(true); // renew
        expect(await loser.leases.claim('w', loserName, 300)).toBe(false);
        await new Promise((r) => setTimeout(r, 400));
        expect(await loser.leases.claim('w', loserName, 300)).toBe(true);
        await loser.leases.release('w', winnerName); // not the holder: no effect
        expect(await winner.leases.claim('w', winnerName, 300)).toBe(false);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('the one-live-binary rule holds for inserts racing from two instances', async () => {
      const [a, b] = await Promise.all([PgStore.open({ url: db.url }), PgStore.open({ url: db.url })]);
      try {
        const now = '2026-01-01T00:00:00.000000Z';
        const org = '00000000-0000-4000-8000-000000000001';
        const art = {
          id: crypto.randomUUID(),
          org,
          name: `n${Math.random()}`,
          description: null,
          custom_metadata: null,
          inserted_at: now,
          updated_at: now,
        };
        await a.artifacts.insert(art);
        const ver = {
          id: crypto.randomUUID(),
          org,
          artifact_id: art.id,
          version: '1',
          description: null,
          custom_metadata: null,
          inserted_at: now,
          updated_at: now,
        };
        await a.artifactVersions.insert(ver);
        const insert = (s: PgStore) =>
          s.transaction(async (tx) => {
            if (await tx.binaries.findLive(ver.id, 'arm')) return 'taken';
            await tx.binaries.insert({
              id: crypto.randomUUID(),
              org,
              artifact_version_id: ver.id,
              target: 'arm',
              hash: 'a'.repeat(64),
              size: 1,
              description: null,
              custom_metadata: null,
              inserted_at: now,
              updated_at: now,
            });
            return 'created';
          });
        const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => insert(i % 2 ? a : b)));
        expect(results.filter((r) => r.status === 'fulfilled' && r.value === 'created')).toHaveLength(1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
