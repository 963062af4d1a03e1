import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExpiry } from '../../src/access/api-keys.js';
import type { TestRegistry } from '../support.js';
import { describeOnBackends } from './backends.js';
import { allEvents, as, makeKey } from './keys.js';

describeOnBackends('API keys', (backend) => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await backend.start();
  });
  afterAll(() => t?.close());

  describe('API keys', () => {
    it('shows a key once, stores only its hash, and keeps the started-with key working as admin', async () => {
      const created = await makeKey(t, 'reader');
      expect(created.key).toMatch(/^prs_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
      const got = await t.api('GET', `/api_keys/${created.prn}`);
      expect(got.body.api_key).toEqual({
        prn: created.prn,
        name: 'reader-key',
        role: 'reader',
        expires_at: null,
        revoked_at: null,
        inserted_at: expect.any(String),
        updated_at: expect.any(String),
      });
      const listed = await t.api('GET', '/api_keys');
      expect(JSON.stringify(listed.body)).not.toContain(created.key);
      const stored = await backend.dump(t);
      expect(stored).toContain(created.prn.split(':').at(-1)); // the dump does hold the records
      expect(stored).not.toContain(created.key.slice(37));
      expect((await as(t, created.key).api('GET', '/artifacts')).status).toBe(200);
      expect((await t.api('GET', '/api_keys')).status).toBe(200); // the started-with key is admin
    });

    it('refuses a revoked key at once, with 401', async () => {
      const k = await makeKey(t, 'publisher');
      const user = as(t, k.key);
      expect((await user.api('GET', '/artifacts')).status).toBe(200);
      const revoked = await t.api('DELETE', `/api_keys/${k.prn}`);
      expect(revoked.body.api_key.revoked_at).toEqual(expect.any(String));
      const after = await user.api('GET', '/artifacts');
      expect(after.status).toBe(401);
      expect(after.body.errors.detail).toBe("Unauthorized: the API key 'publisher-key' was revoked");
    });

    it('refuses an expired key with 401', async () => {
      const k = await makeKey(t, 'reader', { expires: new Date(Date.now() + 1500).toISOString() });
      const user = as(t, k.key);
      expect((await user.api('GET', '/artifacts')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1600));
      const after = await user.api('GET', '/artifacts');
      expect(after.status).toBe(401);
      expect(after.body.errors.detail).toMatch(/^Unauthorized: the API key 'reader-key' expired at /);
    });

    it('refuses an unknown key, a forged secret for a real id, and no key with 401', async () => {
      const k = await makeKey(t, 'admin');
      const forged = `${k.key.slice(0, 37)}${'A'.repeat(43)}`;
      for (const key of [forged, 'prs_00000000000000000000000000000000_' + 'A'.repeat(43), 'nope']) {
        expect((await as(t, key).api('GET', '/artifacts')).status).toBe(401);
      }
      expect((await t.api('GET', '/artifacts', undefined, { authorization: '' })).status).toBe(401);
    });

    it('answers bad role, expiry and name with a 422 naming the field', async () => {
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [
          { name: 'x', role: 'owner' },
          'role',
          /must be one of admin, publisher, signer, releaser, reader, device-check/,
        ],
        [{ name: 'x', role: 'reader', expires: '90 days' }, 'expires', /duration like '90d'/],
        [{ name: 'x', role: 'reader', expires: '0d' }, 'expires', /positive/],
        [{ name: 'x', role: 'reader', expires: '2001-01-01T00:00:00Z' }, 'expires', /in the future/],
        [{ name: 'x', role: 'reader', expires: 90 }, 'expires', /must be a string/],
        [{ role: 'reader' }, 'name', /can't be blank/],
      ];
      for (const [body, field, message] of cases) {
        const res = await t.api('POST', '/api_keys', body);
        expect(res.status, JSON.stringify(body)).toBe(422);
        expect(Object.keys(res.body.errors)).toEqual([field]);
        expect(res.body.errors[field][0]).toMatch(message);
      }
    });

    it('records api_key.created and api_key.revoked with the actor, never the key', async () => {
      const k = await makeKey(t, 'signer');
      await t.api('DELETE', `/api_keys/${k.prn}`);
      const events = await allEvents(t, { resource_prn: k.prn });
      expect(events.map((e) => `${e.type}.${e.event_subtype}`)).toEqual([
        'api_key.created',
        'api_key.revoked',
      ]);
      expect(events[0].data.data.actor).toMatchObject({ name: 'registry-key', role: 'admin' });
      expect(events[0].data.data.after).toMatchObject({ prn: k.prn, role: 'signer' });
      expect(events[0].data.data.api_key_prn).toBe(k.prn); // Peridio's own payload field
      const everything = JSON.stringify(await allEvents(t));
      expect(everything).not.toContain(k.key);
      expect(everything).not.toContain(k.key.slice(37));
      expect(everything).not.toContain(t.apiKey);
      const logs = JSON.stringify(t.logger.lines);
      expect(logs).not.toContain(k.key.slice(37));
    });
  });

  describe('GET /api_keys', () => {
    it('pages like every list: limit, order, page → next_page; a bad cursor or limit is a 422 naming it', async () => {
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await makeKey(t, 'reader', { name: `page-${i}` })).prn);
      const all: string[] = [];
      let page: string | null = null;
      let pages = 0;
      do {
        const q: string = page ? `page=${encodeURIComponent(page)}&limit=2` : 'limit=2&order=asc';
        const res = await t.api('GET', `/api_keys?${q}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.api_keys.length).toBeLessThanOrEqual(2);
        all.push(...res.body.api_keys.map((k: { prn: string }) => k.prn));
        page = res.body.next_page;
        pages++;
      } while (page);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(new Set(all).size).toBe(all.length);
      expect(all.filter((p) => made.includes(p))).toEqual(made);
      const desc = await t.api('GET', '/api_keys?order=desc&limit=3');
      expect(desc.body.api_keys.map((k: { prn: string }) => k.prn)).toEqual(all.slice(-3).reverse());
      expect(desc.body.next_page).toEqual(expect.any(String));
      const named = await t.api('GET', `/api_keys?search=${encodeURIComponent("name:'page-3'")}`);
      expect(named.body.api_keys.map((k: { prn: string }) => k.prn)).toEqual([made[3]]);
      for (const [q, field] of [
        ['page=not-a-cursor', 'page'],
        ['limit=0', 'limit'],
        ['order=sideways', 'order'],
        [`search=${encodeURIComponent("hash:'x'")}`, 'search'],
      ] as const) {
        const bad = await t.api('GET', `/api_keys?${q}`);
        expect(bad.status, q).toBe(422);
        expect(Object.keys(bad.body.errors)).toEqual([field]);
      }
    });
  });
});

describe('parseExpiry', () => {
  it('reads durations and dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseExpiry('90d', now)).toEqual({ at: '2026-04-01T00:00:00.000Z' });
    expect(parseExpiry('12h', now)).toEqual({ at: '2026-01-01T12:00:00.000Z' });
    expect(parseExpiry('2w', now)).toEqual({ at: '2026-01-15T00:00:00.000Z' });
    expect(parseExpiry('2027-01-01', now)).toEqual({ at: '2027-01-01T00:00:00.000Z' });
    expect(parseExpiry('soon', now)).toHaveProperty('error');
  });
});
