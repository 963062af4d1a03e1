import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AccessStore,
  ApiKeyRecord,
  NewDelivery,
  SequencedEvent,
  WebhookRecord,
} from '../../src/store/access-store.js';
import type { NewEvent } from '../../src/store/release-store.js';
import type { Store } from '../../src/store/store.js';

/**
 * What every AccessStore must do, whatever holds the records: run for SQLite and PostgreSQL
 * (*-store.contract.test.ts), through the interface only.
 */
export function describeAccessStoreContract(
  name: string,
  makeStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>,
): void {
  describe(`AccessStore contract: ${name}`, () => {
    let store: Store;
    let access: AccessStore;
    let cleanup: () => Promise<void>;
    const org = randomUUID();
    let clock = 0;
    const at = () => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ++clock)).toISOString().replace('Z', '000Z');

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      access = store.accessStore(org);
    });
    afterEach(async () => cleanup());

    const event = (name: string): NewEvent => ({
      type: 'api_key',
      subtype: 'created',
      resource_prn: null,
      actor_prn: null,
      data: { name },
    });
    const webhook = (fields: Partial<WebhookRecord> = {}): WebhookRecord => {
      const now = at();
      return {
        id: randomUUID(),
        url: 'https://hooks.example.com/x',
        description: null,
        enabled_events: ['artifact.created'],
        state: 'enabled',
        secret: '00'.repeat(16),
        previous_secret: null,
        previous_secret_expires_at: null,
        inserted_at: now,
        updated_at: now,
        ...fields,
      };
    };
    const apiKey = (name: string): ApiKeyRecord => {
      const now = at();
      return {
        id: randomUUID(),
        name,
        role: 'reader',
        hash: 'ab'.repeat(32),
        expires_at: null,
        revoked_at: null,
        inserted_at: now,
        updated_at: now,
      };
    };
    /** A route that queues every event for every webhook, and remembers what it was given. */
    const everyWebhook = (seen: { events: SequencedEvent[]; webhooks: WebhookRecord[][] }) => {
      return (events: SequencedEvent[], webhooks: WebhookRecord[]): NewDelivery[] => {
        seen.events.push(...events);
        seen.webhooks.push(webhooks);
        return events.flatMap((e) =>
          webhooks.map((w) => ({ webhook_id: w.id, event_id: e.id, next_attempt_at: 0, first_queued_at: 0 })),
        );
      };
    };
    /** Sends (deletes) a webhook's queue head by head: the events in delivery order. */
    const drain = async (webhookId: string) => {
      const out: string[] = [];
      for (;;) {
        const [head] = await access.heads(webhookId);
        if (!head) return out;
        out.push((head.event.data as { name: string }).name);
        await access.deliveryDone(head.seq);
      }
    };

    it('fans out only what happens after the first webhook, each event once, with the current webhooks', async () => {
      await access.appendEvents([event('history')]);
      const w = await access.insertWebhook(webhook());
      await access.appendEvents([event('e1'), event('e2')]);
      const seen = { events: [] as SequencedEvent[], webhooks: [] as WebhookRecord[][] };
      expect(await access.fanOut(500, everyWebhook(seen))).toBe(2);
      expect(seen.events.map((e) => (e.data as { name: string }).name)).toEqual(['e1', 'e2']);
      expect(seen.webhooks[0]!.map((x) => x.id)).toEqual([w.id]);
      expect(await access.fanOut(500, everyWebhook(seen))).toBe(0);
      expect(await access.pendingCount(w.id)).toBe(2);
      expect(await access.pendingCount()).toBe(2);

      const [head] = await access.heads();
      expect(head).toMatchObject({ webhook_id: w.id, attempts: 0 });
      expect(head!.event).toMatchObject({ type: 'api_key', subtype: 'created', data: { name: 'e1' } });
      await access.deliveryRetry(head!.seq, 1, 12345);
      expect(await access.heads(w.id)).toEqual([{ ...head, attempts: 1, next_attempt_at: 12345 }]);
      expect(await drain(w.id)).toEqual(['e1', 'e2']);
      expect(await access.pendingCount()).toBe(0);
    });

    it('fans out at most `limit` events a call, in order', async () => {
      const w = await access.insertWebhook(webhook());
      await access.appendEvents(['a', 'b', 'c'].map(event));
      const seen = { events: [] as SequencedEvent[], webhooks: [] as WebhookRecord[][] };
      expect(await access.fanOut(2, everyWebhook(seen))).toBe(2);
      expect(await access.fanOut(2, everyWebhook(seen))).toBe(1);
      expect(await access.fanOut(2, everyWebhook(seen))).toBe(0);
      expect(await drain(w.id)).toEqual(['a', 'b', 'c']);
    });

    it('keeps one head of line per webhook; deleting a webhook deletes its queue', async () => {
      const w1 = await access.insertWebhook(webhook());
      const w2 = await access.insertWebhook(webhook({ url: 'https://hooks.example.com/2' }));
      await access.appendEvents([event('x'), event('y')]);
      await access.fanOut(500, everyWebhook({ events: [], webhooks: [] }));
      expect((await access.heads()).map((h) => h.webhook_id).sort()).toEqual([w1.id, w2.id].sort());
      expect(await access.deleteWebhook(w1.id)).toBe(true);
      expect(await access.deleteWebhook(w1.id)).toBe(false);
      expect(await access.pendingCount(w1.id)).toBe(0);
      expect(await access.getWebhook(w1.id)).toBeUndefined();
      expect(await drain(w2.id)).toEqual(['x', 'y']);
    });

    it('stores webhooks as given, updates only what a patch names, and lists and pages them', async () => {
      const w = await access.insertWebhook(webhook({ description: 'd', state: 'disabled' }));
      expect(await access.getWebhook(w.id)).toEqual(w);
      const updated = await access.updateWebhook(w.id, {
        enabled_events: ['binary.created', 'artifact.created'],
        state: 'enabled',
        updated_at: at(),
      });
      expect(updated).toMatchObject({
        description: 'd',
        enabled_events: ['binary.created', 'artifact.created'],
        state: 'enabled',
        secret: w.secret,
      });
      const more = [await access.insertWebhook(webhook()), await access.insertWebhook(webhook())];
      expect((await access.listWebhooks()).map((x) => x.id)).toEqual([w.id, ...more.map((x) => x.id)]);
      const first = await access.pageWebhooks({ org, limit: 2, order: 'asc', after: 0, filters: [] });
      expect(first.rows.map((x) => x.id)).toEqual([w.id, more[0]!.id]);
      expect(first.more).toBe(true);
      const rest = await access.pageWebhooks({
        org,
        limit: 2,
        order: 'asc',
        after: first.rows[1]!.seq,
        filters: [],
      });
      expect(rest.rows.map((x) => x.id)).toEqual([more[1]!.id]);
      expect(rest.more).toBe(false);
      const enabled = await access.pageWebhooks({
        org,
        limit: 10,
        order: 'desc',
        after: Number.MAX_SAFE_INTEGER,
        filters: [{ field: 'state', op: '=', value: 'enabled' }],
      });
      expect(enabled.rows.map((x) => x.id)).toEqual([more[1]!.id, more[0]!.id, w.id]);
    });

    it('stores API keys, revokes once (the first time stays), and pages them', async () => {
      const keys = [];
      for (const n of ['ci', 'signer', 'ops']) keys.push(await access.insertApiKey(apiKey(n)));
      expect(await access.getApiKey(keys[0]!.id)).toEqual(keys[0]);
      expect(await access.getApiKey(randomUUID())).toBeUndefined();
      const first = await access.revokeApiKey(keys[1]!.id, '2026-02-01T00:00:00.000Z');
      expect(first?.revoked_at).toBe('2026-02-01T00:00:00.000Z');
      const again = await access.revokeApiKey(keys[1]!.id, '2026-03-01T00:00:00.000Z');
      expect(again?.revoked_at).toBe('2026-02-01T00:00:00.000Z');
      expect(await access.revokeApiKey(randomUUID(), '2026-03-01T00:00:00.000Z')).toBeUndefined();
      const desc = await access.pageApiKeys({
        org,
        limit: 2,
        order: 'desc',
        after: Number.MAX_SAFE_INTEGER,
        filters: [],
      });
      expect(desc.rows.map((k) => k.name)).toEqual(['ops', 'signer']);
      expect(desc.more).toBe(true);
      const named = await access.pageApiKeys({
        org,
        limit: 10,
        order: 'asc',
        after: 0,
        filters: [{ field: 'name', op: 'contains', value: 'ig' }],
      });
      expect(named.rows.map((k) => k.name)).toEqual(['signer']);
      // Another organization's records are not this store's.
      const other = store.accessStore(randomUUID());
      expect(await other.getApiKey(keys[0]!.id)).toBeUndefined();
      expect((await other.pageApiKeys({ org, limit: 10, order: 'asc', after: 0, filters: [] })).rows).toEqual(
        [],
      );
    });
  });
}
