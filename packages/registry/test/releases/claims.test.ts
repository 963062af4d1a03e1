import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../src/store/pg/pg-store.js';
import type { Store } from '../../src/store/store.js';
import { describeWithServices, freshDatabase } from '../../../../test/services/services.js';
import { startWorld, type World } from './world.js';

/**
 * Numeric phases are first come, first served by claim: exact under concurrency, because the claim is one
 * conditional update in the store, not a read-then-write. Run on the embedded SQLite store and on
 * PostgreSQL (the registry in process; test/reliability/fleet-releases.test.ts splits the checks over two
 * registry processes).
 */
interface Records {
  /** The store for a new registry (undefined: its own SQLite) and what to remove once it is closed. */
  open(): Promise<{ store?: Store; drop(): Promise<void> }>;
}

async function phasedWorld(records: Records, phaseValue: number, devices: number) {
  const { store, drop } = await records.open();
  // 200 checks at once on top of the previous round's keep-alive sockets: above the default connection cap
  // (256), which would reset some of them. The cap has its own tests; here the claims are under test.
  const w = await startWorld({ maxConnections: 1000, ...(store ? { store } : {}) });
  const close = w.t.close.bind(w.t);
  w.t.close = async (options) => {
    await close(options);
    await drop();
  };
  const base = await w.release((await w.bundle([(await w.signedBinary()).prn])).prn, { version: '1.0.0' });
  const phased = await w.release((await w.bundle([(await w.signedBinary()).prn])).prn, {
    version: '2.0.0',
    phase_value: phaseValue,
  });
  const list: { prn: string }[] = [];
  for (let i = 0; i < devices; i++) list.push(await w.device());
  return { w, base, phased, devices: list };
}

async function checkAll(w: World, devices: { prn: string }[], releasePrn: string) {
  return Promise.all(
    devices.map((d) => w.check(d.prn, { release_prn: releasePrn, release_version: '1.0.0' })),
  );
}

function describeClaims(name: string, records: Records) {
  describe(`${name}: phase claims under concurrency`, () => {
    let count: Awaited<ReturnType<typeof phasedWorld>>;
    beforeAll(async () => {
      count = await phasedWorld(records, 50, 200);
    }, 120_000);
    afterAll(() => count.w.t.close());

    it('200 concurrent update checks against phase_value 50 give exactly 50 update answers', async () => {
      const answers = await checkAll(count.w, count.devices, count.base.prn);
      const updates = answers.filter((a) => a.status === 'update');
      expect(updates).toHaveLength(50);
      expect(new Set(updates.map((a) => a.source_prn))).toEqual(new Set([count.phased.prn]));
      expect(answers.filter((a) => a.status === 'no_update')).toHaveLength(150);
      expect(count.phased.phase_type).toBe('static');
    });

    it('a claim counts once per device: the same 200 again still give exactly the same 50', async () => {
      const first = await checkAll(count.w, count.devices, count.base.prn);
      const admitted = count.devices.filter((_, i) => first[i].status === 'update').map((d) => d.prn);
      const again = await checkAll(count.w, count.devices, count.base.prn);
      expect(count.devices.filter((_, i) => again[i].status === 'update').map((d) => d.prn)).toEqual(
        admitted,
      );
      expect(admitted).toHaveLength(50);
    });

    it('records exactly one device.claimed_release per admitted device', async () => {
      let total = 0;
      let page: string | null = null;
      do {
        const res: any = await count.w.t.api(
          'GET',
          page ? `/events?page=${page}&subtype=claimed_release` : '/events?subtype=claimed_release&limit=100',
        );
        total += res.body.events.length;
        for (const e of res.body.events) expect(e.data.data.release.prn).toBe(count.phased.prn);
        page = res.body.next_page;
      } while (page);
      expect(total).toBe(50);
    });

    it('raising phase_value admits exactly the difference', async () => {
      const res = await count.w.t.api('PATCH', `/releases/${count.phased.prn}`, { phase_value: 60 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const answers = await checkAll(count.w, count.devices, count.base.prn);
      expect(answers.filter((a) => a.status === 'update')).toHaveLength(60);
    });
  });

  describe(`${name}: percent phase under concurrency`, () => {
    let share: Awaited<ReturnType<typeof phasedWorld>>;
    beforeAll(async () => {
      share = await phasedWorld(records, 0.25, 200);
    }, 120_000);
    afterAll(() => share.w.t.close());

    it('200 concurrent update checks against phase_value 0.25 of a 200-device cohort give exactly 50 update answers', async () => {
      expect(share.phased.phase_type).toBe('percent');
      const answers = await checkAll(share.w, share.devices, share.base.prn);
      expect(answers.filter((a) => a.status === 'update')).toHaveLength(50);
    });

    it('completing the phase (phase_value 1) serves every device, and 1 is final', async () => {
      expect((await share.w.t.api('PATCH', `/releases/${share.phased.prn}`, { phase_value: 1 })).status).toBe(
        200,
      );
      const answers = await checkAll(share.w, share.devices, share.base.prn);
      expect(answers.filter((a) => a.status === 'update')).toHaveLength(200);
      const back = await share.w.t.api('PATCH', `/releases/${share.phased.prn}`, { phase_value: 0.5 });
      expect(back.status).toBe(422);
      expect(back.body.errors.phase_value[0]).toMatch(/final/);
    });
  });
}

describeClaims('SQLite', { open: async () => ({ drop: async () => undefined }) });

describeWithServices('PostgreSQL', (env) => {
  describeClaims('PostgreSQL', {
    async open() {
      const db = await freshDatabase(env.PERIDIO_REGISTRY_DATABASE_URL!);
      return { store: await PgStore.open({ url: db.url }), drop: () => db.drop() };
    },
  });
});
