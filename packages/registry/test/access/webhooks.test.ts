import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DISPATCH, retryDelay } from '../../src/webhooks/dispatcher.js';
import { signDelivery } from '../../src/webhooks/signature.js';
import { expectSpec, type TestRegistry } from '../support.js';
import { describeOnBackends } from './backends.js';
import { allEvents } from './keys.js';
import { signatureValid, startReceiver, type Receiver } from './receiver.js';

const FAST = { baseDelayMs: 100, maxDelayMs: 400, pollMs: 100, timeoutMs: 1500 };

describeOnBackends('webhooks', (backend) => {
  let t: TestRegistry;
  let rx: Receiver;
  beforeAll(async () => {
    t = await backend.start({ allowInsecureWebhooks: true, webhookDispatch: FAST });
    rx = await startReceiver();
  });
  afterAll(async () => {
    await t?.close();
    await rx?.close();
  });

  async function enabledWebhook(events: string[], url = rx.url) {
    const created = await t.api('POST', '/webhooks', { url, description: 'test', enabled_events: events });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const prn = created.body.webhook.prn as string;
    const enabled = await t.api('PATCH', `/webhooks/${prn}`, { state: 'enabled' });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    return { prn, secret: created.body.webhook.secret as string };
  }

  describe('webhooks API', () => {
    it('creates disabled with a secret shown once, and validates against the spec', async () => {
      // The spec's enum lists two events; the extension events are validated by the tests below.
      const res = await t.api('POST', '/webhooks', {
        url: rx.url,
        enabled_events: ['device.release_changed'],
      });
      expect(res.status).toBe(201);
      expectSpec('/webhooks', 'post', 201, res.body);
      expect(res.body.webhook).toMatchObject({
        state: 'disabled',
        enabled_events: ['device.release_changed'],
        url: rx.url,
      });
      expect(res.body.webhook.secret).toMatch(/^[0-9A-F]{32}$/);
      const got = await t.api('GET', `/webhooks/${res.body.webhook.prn}`);
      expectSpec('/webhooks/{webhook_prn}', 'get', 200, got.body);
      expect(got.body.webhook).not.toHaveProperty('secret');
      const list = await t.api('GET', '/webhooks');
      expectSpec('/webhooks', 'get', 200, list.body);
      expect(JSON.stringify(list.body)).not.toContain(res.body.webhook.secret);
      expect((await t.api('DELETE', `/webhooks/${res.body.webhook.prn}`)).status).toBe(204);
      expect((await t.api('GET', `/webhooks/${res.body.webhook.prn}`)).status).toBe(404);
    });

    it('answers bad URLs, unknown events, states and TTLs with a 422 naming the field', async () => {
      const bad: [Record<string, unknown>, string, RegExp][] = [
        [{ url: 'ftp://example.com/x' }, 'url', /http:\/\/ or https:\/\//],
        [{ url: 'http://169.254.169.254/latest/meta-data' }, 'url', /link-local/],
        [{ url: 'https://[fe80::1]/x' }, 'url', /link-local/],
        [{ url: 'not a url' }, 'url', /absolute https/],
        [{ url: `https://example.com/${'a'.repeat(1100)}` }, 'url', /at most 1028/],
        [
          { url: rx.url, enabled_events: ['binary.exploded'] },
          'enabled_events',
          /unknown event 'binary.exploded'/,
        ],
        [{ url: rx.url, enabled_events: 'artifact.created' }, 'enabled_events', /list of event names/],
      ];
      for (const [body, field, message] of bad) {
        const res = await t.api('POST', '/webhooks', body);
        expect(res.status, JSON.stringify(body)).toBe(422);
        expect(Object.keys(res.body.errors)).toEqual([field]);
        expect(res.body.errors[field][0]).toMatch(message);
      }
      const w = (await t.api('POST', '/webhooks', { url: rx.url })).body.webhook;
      expect((await t.api('PATCH', `/webhooks/${w.prn}`, { state: 'on' })).body.errors).toHaveProperty(
        'state',
      );
      expect(
        (await t.api('POST', `/webhooks/${w.prn}/roll_secret`, { webhook_ttl: -1 })).body.errors,
      ).toHaveProperty('webhook_ttl');
      await t.api('DELETE', `/webhooks/${w.prn}`);
    });

    it('allows only https:// without --allow-insecure-webhooks', async () => {
      const strict = await backend.start();
      try {
        const res = await strict.api('POST', '/webhooks', { url: rx.url });
        expect(res.status).toBe(422);
        expect(res.body.errors.url[0]).toMatch(/must be an https:\/\/ URL .*--allow-insecure-webhooks/);
        expect((await strict.api('POST', '/webhooks', { url: 'https://hooks.example.com/x' })).status).toBe(
          201,
        );
      } finally {
        await strict.close();
      }
    });

    it('checks the URL when a webhook is enabled or its URL changes: a test_fire that must get a 2xx', async () => {
      const created = (await t.api('POST', '/webhooks', { url: rx.url, enabled_events: [] })).body.webhook;
      rx.behave({ status: 500 });
      const refused = await t.api('PATCH', `/webhooks/${created.prn}`, { state: 'enabled' });
      expect(refused.status).toBe(422);
      expect(refused.body.errors.url[0]).toMatch(/did not accept the verification request .*HTTP 500/);
      expect((await t.api('GET', `/webhooks/${created.prn}`)).body.webhook.state).toBe('disabled');
      rx.behave({ status: 200 });
      const before = rx.received.length;
      expect((await t.api('PATCH', `/webhooks/${created.prn}`, { state: 'enabled' })).status).toBe(200);
      const check = rx.received[rx.received.length - 1]!;
      expect(rx.received.length).toBeGreaterThan(before);
      expect(check.body.data).toEqual({ type: 'test_fire', data: { webhook_prn: created.prn } });
      expect(signatureValid(created.secret, check)).toBe(true);
      const moved = await t.api('PATCH', `/webhooks/${created.prn}`, { url: 'http://127.0.0.1:1/nothing' });
      expect(moved.status).toBe(422);
      await t.api('DELETE', `/webhooks/${created.prn}`);
    });
  });

  describe('deliveries', () => {
    it('delivers a subscribed event with a valid signature and the published-at header', async () => {
      const w = await enabledWebhook(['artifact.created']);
      const artifact = (await t.api('POST', '/artifacts', { name: 'hooked' })).body.artifact;
      const [d] = await rx.waitFor(1, 10_000, (r) => r.body?.data?.data?.after?.prn === artifact.prn);
      expect(d!.headers['peridio-published-at']).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
      expect(d!.headers['peridio-signature']).toMatch(/^[0-9A-F]{64}$/);
      expect(signatureValid(w.secret, d!)).toBe(true);
      expect(signatureValid('00'.repeat(16), d!)).toBe(false);
      expect(d!.body).toMatchObject({ type: 'artifact', version: 1, data: { type: 'created' } });
      expect(d!.body.prn).toMatch(/^prn:1:[0-9a-f-]+:event:[0-9a-f-]+$/);
      await t.api('DELETE', `/webhooks/${w.prn}`);
    });

    it('a receiver down for a while gets every event after it comes back, in order, once each after dedup', async () => {
      const w = await enabledWebhook(['artifact_version.created']);
      const artifact = (await t.api('POST', '/artifacts', { name: 'outage' })).body.artifact;
      await rx.down();
      const versions: string[] = [];
      for (let i = 0; i < 8; i++) {
        const v = await t.api('POST', '/artifact_versions', {
          artifact_prn: artifact.prn,
          version: `1.0.${i}`,
        });
        versions.push(v.body.artifact_version.prn);
      }
      await new Promise((r) => setTimeout(r, 1500)); // several failed attempts with backoff
      const countBefore = rx.received.length;
      await rx.up();
      const mine = (r: { body: any }) =>
        r.body?.type === 'artifact_version' && versions.includes(r.body.data.data.after.prn);
      await rx.waitFor(8, 15_000, (r) => mine(r));
      const seen = new Set<string>();
      const order: string[] = [];
      for (const r of rx.received.slice(countBefore).filter(mine)) {
        expect(signatureValid(w.secret, r)).toBe(true);
        if (seen.has(r.body.prn)) continue;
        seen.add(r.body.prn);
        order.push(r.body.data.data.after.prn);
      }
      expect(order).toEqual(versions);
      await t.api('DELETE', `/webhooks/${w.prn}`);
    }, 40_000);

    it('during a secret roll signs with both secrets, after the TTL with the new one only', async () => {
      const w = await enabledWebhook(['artifact.created']);
      const rolled = await t.api('POST', `/webhooks/${w.prn}/roll_secret`, { webhook_ttl: 2 });
      expect(rolled.status).toBe(200);
      expectSpec('/webhooks/{webhook_prn}/roll_secret', 'post', 200, {
        webhook: { ...rolled.body.webhook, enabled_events: [] },
      });
      const fresh = rolled.body.webhook.secret as string;
      expect(fresh).not.toBe(w.secret);
      const p1 = (await t.api('POST', '/artifacts', { name: 'during-roll' })).body.artifact.prn;
      const [during] = await rx.waitFor(1, 10_000, (r) => r.body?.data?.data?.after?.prn === p1);
      const sigs = String(during!.headers['peridio-signature']).split(',');
      expect(sigs).toHaveLength(2);
      const publishedAt = String(during!.headers['peridio-published-at']);
      expect(sigs).toEqual([
        signDelivery(fresh, publishedAt, during!.raw),
        signDelivery(w.secret, publishedAt, during!.raw),
      ]);
      await new Promise((r) => setTimeout(r, 2100));
      const p2 = (await t.api('POST', '/artifacts', { name: 'after-roll' })).body.artifact.prn;
      const [after] = await rx.waitFor(1, 10_000, (r) => r.body?.data?.data?.after?.prn === p2);
      expect(String(after!.headers['peridio-signature']).split(',')).toHaveLength(1);
      expect(signatureValid(fresh, after!)).toBe(true);
      expect(signatureValid(w.secret, after!)).toBe(false);
      await t.api('DELETE', `/webhooks/${w.prn}`);
    });

    it('test_fire answers the event and delivers it to that webhook', async () => {
      const w = await enabledWebhook([]);
      const res = await t.api('POST', `/webhooks/${w.prn}/test_fire`);
      expect(res.status).toBe(200);
      expectSpec('/webhooks/{webhook_prn}/test_fire', 'post', 200, res.body);
      expect(res.body.event).toMatchObject({
        type: 'webhook',
        data: { type: 'test_fire', data: { webhook_prn: w.prn } },
      });
      const [d] = await rx.waitFor(1, 10_000, (r) => r.body?.prn === res.body.event.prn);
      expect(signatureValid(w.secret, d!)).toBe(true);
      expect(d!.body).toEqual(
        expect.objectContaining({ prn: res.body.event.prn, type: 'webhook', version: 1 }),
      );
      await t.api('DELETE', `/webhooks/${w.prn}`);
    });

    it('never follows a redirect to another host; the delivery is retried instead', async () => {
      const other = await startReceiver();
      try {
        const w = await enabledWebhook(['artifact_version.created']);
        rx.behave({
          handle: (_req, res) => {
            res.writeHead(307, { location: other.url });
            res.end();
          },
        });
        const artifact = (await t.api('POST', '/artifacts', { name: 'redirected' })).body.artifact.prn;
        const version = (await t.api('POST', '/artifact_versions', { artifact_prn: artifact, version: '1' }))
          .body.artifact_version.prn;
        const mine = (r: { body: any }) => r.body?.data?.data?.after?.prn === version;
        await rx.waitFor(2, 10_000, mine); // attempted, refused by the redirect, attempted again
        expect(other.received).toEqual([]);
        rx.behave({ status: 200 });
        await t.api('DELETE', `/webhooks/${w.prn}`);
      } finally {
        rx.behave({ status: 200 });
        await other.close();
      }
    });

    it('keeps webhook secrets out of events and logs', async () => {
      const w = await enabledWebhook(['artifact.created']);
      const rolled = (await t.api('POST', `/webhooks/${w.prn}/roll_secret`, { webhook_ttl: 0 })).body.webhook
        .secret;
      const events = JSON.stringify(await allEvents(t));
      expect(events).toContain('webhook.created');
      for (const secret of [w.secret, rolled]) {
        expect(events).not.toContain(secret);
        expect(JSON.stringify(t.logger.lines)).not.toContain(secret);
      }
      await t.api('DELETE', `/webhooks/${w.prn}`);
    });
  });

  describe('retries', () => {
    it('backs off exponentially with ±50 % jitter, capped', () => {
      const o = { ...DEFAULT_DISPATCH, baseDelayMs: 1000, maxDelayMs: 8000 };
      expect([1, 2, 3, 4, 5, 9].map((n) => retryDelay(n, o, () => 0.5))).toEqual([
        1000, 2000, 4000, 8000, 8000, 8000,
      ]);
      expect(retryDelay(1, o, () => 0)).toBe(500);
      expect(retryDelay(1, o, () => 0.999)).toBe(1499);
      expect(DEFAULT_DISPATCH.giveUpAfterMs).toBe(3 * 24 * 3600 * 1000);
    });

    it('gives up after the retry window: records webhook.request_failed (never delivered) and moves on', async () => {
      const r = await backend.start({
        allowInsecureWebhooks: true,
        webhookDispatch: { ...FAST, giveUpAfterMs: 600 },
      });
      const failing = await startReceiver();
      try {
        const w = (
          await r.api('POST', '/webhooks', {
            url: failing.url,
            enabled_events: ['artifact.created', 'webhook.request_failed'],
          })
        ).body.webhook;
        expect((await r.api('PATCH', `/webhooks/${w.prn}`, { state: 'enabled' })).status).toBe(200);
        failing.behave({ status: 500 });
        const first = (await r.api('POST', '/artifacts', { name: 'never-accepted' })).body.artifact.prn;
        const deadline = Date.now() + 10_000;
        let failed: any[] = [];
        while (failed.length === 0 && Date.now() < deadline) {
          await new Promise((res) => setTimeout(res, 100));
          failed = await allEvents(r, { type: 'webhook', subtype: 'request_failed' });
        }
        expect(failed).toHaveLength(1);
        expect(failed[0].resource_prn).toBe(w.prn);
        expect(failed[0].data.data).toMatchObject({
          type: 'response_status',
          data: { status: 500, webhook: { prn: w.prn } },
        });
        const attempts = failing.received.filter((x) => x.body?.data?.data?.after?.prn === first).length;
        expect(attempts).toBeGreaterThan(1);
        failing.behave({ status: 200 });
        const second = (await r.api('POST', '/artifacts', { name: 'accepted' })).body.artifact.prn;
        await failing.waitFor(1, 10_000, (x) => x.body?.data?.data?.after?.prn === second);
        expect(failing.received.some((x) => x.body?.data?.type === 'request_failed')).toBe(false);
      } finally {
        await r.close();
        await failing.close();
      }
    });
  });

  describe('shutdown', () => {
    it('does not wait for a receiver that hangs, and keeps the delivery for the next start', async () => {
      const hang = await startReceiver();
      hang.behave({ handle: () => undefined }); // never answers
      const r = await backend.start({
        allowInsecureWebhooks: true,
        webhookDispatch: { ...FAST, timeoutMs: 60_000 },
      });
      try {
        hang.behave({ status: 200 });
        const w = (await r.api('POST', '/webhooks', { url: hang.url, enabled_events: ['artifact.created'] }))
          .body.webhook;
        expect((await r.api('PATCH', `/webhooks/${w.prn}`, { state: 'enabled' })).status).toBe(200);
        hang.behave({ handle: () => undefined });
        await r.api('POST', '/artifacts', { name: 'pending-at-shutdown' });
        await hang.waitFor(2); // the URL check, then the delivery now hanging
        const started = Date.now();
        await r.close({ keepData: true });
        expect(Date.now() - started).toBeLessThan(3000);
        const store = await backend.openStore(r);
        expect(await store.accessStore(r.org).pendingCount()).toBe(1);
        await store.close();
      } finally {
        await hang.close();
      }
    });
  });

  describe('GET /webhooks', () => {
    it('pages like every list: limit, order, page → next_page; a bad cursor or limit is a 422 naming it', async () => {
      const made: string[] = [];
      for (let i = 0; i < 5; i++)
        made.push((await t.api('POST', '/webhooks', { url: `${rx.url}?n=${i}` })).body.webhook.prn);
      const seen: string[] = [];
      let page: string | null = null;
      let pages = 0;
      do {
        const q: string = page ? `page=${encodeURIComponent(page)}&limit=2` : 'limit=2';
        const res = await t.api('GET', `/webhooks?${q}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expectSpec('/webhooks', 'get', 200, res.body);
        expect(res.body.webhooks.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.webhooks.map((w: { prn: string }) => w.prn));
        page = res.body.next_page;
        pages++;
      } while (page);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((p) => made.includes(p))).toEqual(made);
      const desc = await t.api('GET', '/webhooks?order=desc&limit=2');
      expect(desc.body.webhooks.map((w: { prn: string }) => w.prn)).toEqual([made[4], made[3]]);
      const next = await t.api('GET', `/webhooks?page=${encodeURIComponent(desc.body.next_page)}&limit=2`);
      expect(next.body.webhooks.map((w: { prn: string }) => w.prn)).toEqual([made[2], made[1]]);
      const found = await t.api('GET', `/webhooks?search=${encodeURIComponent("url~'?n=3'")}`);
      expect(found.body.webhooks.map((w: { prn: string }) => w.prn)).toEqual([made[3]]);
      for (const [q, field] of [
        ['page=bm90IGEgY3Vyc29y', 'page'],
        ['limit=101', 'limit'],
        ['order=up', 'order'],
        [`search=${encodeURIComponent("secret:'x'")}`, 'search'],
      ] as const) {
        const bad = await t.api('GET', `/webhooks?${q}`);
        expect(bad.status, q).toBe(422);
        expect(Object.keys(bad.body.errors)).toEqual([field]);
      }
      for (const prn of made) await t.api('DELETE', `/webhooks/${prn}`);
    });
  });
});

describe('signature test vector (docs/access-audit-webhooks.md)', () => {
  const secret = 'C4FE345F29EF6156BD40B6DF73625243';
  const publishedAt = '2026-01-01T00:00:00.000000Z';
  const body =
    '{"prn":"prn:1:00000000-0000-0000-0000-000000000000:event:00000000-0000-0000-0000-000000000001","type":"webhook","version":1}';
  const expected = 'F2DE3D4E0D21BC9BF29CA1A35F83A50CEC3B4042CE8340137A01A021CB719338';

  it('matches the published vector, and openssl agrees', () => {
    expect(signDelivery(secret, publishedAt, body)).toBe(expected);
    const out = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${secret}`], {
      input: publishedAt + body,
    }).toString();
    expect(out.trim().split(' ').pop()!.toUpperCase()).toBe(expected);
  });
});
