import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewDelivery, SequencedEvent, WebhookRecord } from '../../src/store/access-store.js';
import { insertEvents } from '../../src/store/pg/events.js';
import { PgStore } from '../../src/store/pg/pg-store.js';
import { describeWithServices, freshDatabase } from '../../../../test/services/services.js';
import { describeAccessStoreContract } from './access-store-contract.js';
import { describeStoreContract } from './store-contract.js';

describeWithServices('PostgreSQL store', (env) => {
  const pgStore = async () => {
    const db = await freshDatabase(env.PERIDIO_REGISTRY_DATABASE_URL!);
    const store = await PgStore.open({ url: db.url });
    return {
      store,
      async cleanup() {
        await store.close();
        await db.drop();
      },
    };
  };
  describeStoreContract('PostgreSQL', pgStore);
  describeAccessStoreContract('PostgreSQL', pgStore);

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

  describe('PgAccessStore across instances', () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let a: PgStore;
    let b: PgStore;
    const org = crypto.randomUUID();
    beforeAll(async () => {
      db = await freshDatabase(env.PERIDIO_REGISTRY_DATABASE_URL!);
      [a, b] = await Promise.all([PgStore.open({ url: db.url }), PgStore.open({ url: db.url })]);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await db?.drop();
    });

    const event = (name: string) => ({
      type: 'api_key' as const,
      subtype: 'created',
      resource_prn: null,
      actor_prn: null,
      data: { name },
    });
    const toAll = (events: SequencedEvent[], webhooks: WebhookRecord[]): NewDelivery[] =>
      events.flatMap((e) =>
        webhooks.map((w) => ({ webhook_id: w.id, event_id: e.id, next_attempt_at: 0, first_queued_at: 0 })),
      );
    const drain = async (webhookId: string) => {
      const access = a.accessStore(org);
      const out: string[] = [];
      for (;;) {
        const [head] = await access.heads(webhookId);
        if (!head) return out;
        out.push((head.event.data as { name: string }).name);
        await access.deliveryDone(head.seq);
      }
    };
    let webhookId: string;

    it('a webhook made on one instance is routed to by the other', async () => {
      const now = new Date().toISOString().replace('Z', '000Z');
      webhookId = (
        await a.accessStore(org).insertWebhook({
          id: crypto.randomUUID(),
          url: 'https://hooks.example.com/x',
          description: null,
          enabled_events: ['artifact.created'],
          state: 'enabled',
          secret: '00'.repeat(16),
          previous_secret: null,
          previous_secret_expires_at: null,
          inserted_at: now,
          updated_at: now,
        })
      ).id;
      await a.accessStore(org).appendEvents([event('first')]);
      expect(await b.accessStore(org).fanOut(500, toAll)).toBe(1);
      expect(await drain(webhookId)).toEqual(['first']);
    });

    it('an event whose transaction commits after a later-numbered one is not skipped', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let inserted!: () => void;
      const insertedYet = new Promise<void>((r) => (inserted = r));
      // The slow transaction takes the lower seq, then stays open while another event commits.
      const slow = a.sqlTransaction(async (tx) => {
        await insertEvents(tx, org, [event('slow')]);
        inserted();
        await gate;
      });
      await insertedYet;
      await b.accessStore(org).appendEvents([event('fast')]);
      // Nothing is final while the slow one runs: passing `fast` now would skip `slow` for good.
      expect(await b.accessStore(org).fanOut(500, toAll)).toBe(0);
      release();
      await slow;
      expect(await a.accessStore(org).fanOut(500, toAll)).toBe(2);
      expect(await drain(webhookId)).toEqual(['slow', 'fast']);
    });

    it('two instances appending and fanning out at once queue every event exactly once', async () => {
      const names = Array.from({ length: 120 }, (_, i) => `e${i}`);
      let appending = true;
      const fanning = (s: PgStore) =>
        (async () => {
          let n = 0;
          while (appending) n += await s.accessStore(org).fanOut(7, toAll);
          for (let got = 1; got > 0;) n += got = await s.accessStore(org).fanOut(7, toAll);
          return n;
        })();
      const fanners = [fanning(a), fanning(b)];
      await Promise.all(
        [0, 1, 2, 3].map(async (lane) => {
          for (let i = lane; i < names.length; i += 4)
            await (i % 2 ? a : b).accessStore(org).appendEvents([event(names[i]!)]);
        }),
      );
      appending = false;
      const counts = await Promise.all(fanners);
      expect(counts[0]! + counts[1]!).toBe(names.length);
      expect(counts.every((c) => c > 0)).toBe(true); // both did some of the work
      const delivered = await drain(webhookId);
      expect(delivered.length).toBe(names.length);
      expect(new Set(delivered)).toEqual(new Set(names));
      // Each lane appended in order and waited for each commit: its events are delivered in that order.
      for (const lane of [0, 1, 2, 3]) {
        const mine = names.filter((_, i) => i % 4 === lane);
        expect(delivered.filter((n) => mine.includes(n))).toEqual(mine);
      }
    });
  });
});
