import { randomUUID } from 'node:crypto';
import type { SQLInputValue } from 'node:sqlite';
import type { NewEvent } from '../release-store.js';
import { nowTimestamp } from '../../time.js';
import type { Role } from '../../access/roles.js';
import type {
  AccessStore,
  ApiKeyRecord,
  DeliveryRecord,
  NewDelivery,
  SequencedEvent,
  WebhookRecord,
} from '../access-store.js';
import type { ListQuery } from '../store.js';
import type { Database } from './database.js';
import { listTable } from './list.js';
import { eventOf } from '../release-rows.js';

type Row = Record<string, SQLInputValue>;

const apiKeyOf = (r: Row): ApiKeyRecord => ({
  id: r.id as string,
  name: r.name as string,
  role: r.role as Role,
  hash: r.hash as string,
  expires_at: (r.expires_at as string | null) ?? null,
  revoked_at: (r.revoked_at as string | null) ?? null,
  inserted_at: r.inserted_at as string,
  updated_at: r.updated_at as string,
});

const webhookOf = (r: Row): WebhookRecord => ({
  id: r.id as string,
  url: r.url as string,
  description: (r.description as string | null) ?? null,
  enabled_events: JSON.parse(r.enabled_events as string) as string[],
  state: r.state as WebhookRecord['state'],
  secret: r.secret as string,
  previous_secret: (r.previous_secret as string | null) ?? null,
  previous_secret_expires_at: (r.previous_secret_expires_at as string | null) ?? null,
  inserted_at: r.inserted_at as string,
  updated_at: r.updated_at as string,
});

const deliveryOf = (r: Row): DeliveryRecord => ({
  seq: Number(r.seq),
  webhook_id: r.webhook_id as string,
  event_id: r.event_id as string,
  event: {
    ...eventOf({
      id: r.event_id,
      type: r.type,
      subtype: r.subtype,
      resource_prn: r.resource_prn,
      actor_prn: r.actor_prn,
      data: r.data,
      inserted_at: r.inserted_at,
    }),
    seq: Number(r.event_seq),
  },
  attempts: Number(r.attempts),
  next_attempt_at: Number(r.next_attempt_at),
  first_queued_at: Number(r.first_queued_at),
});

const WEBHOOK_COLUMNS = [
  'url',
  'description',
  'enabled_events',
  'state',
  'secret',
  'previous_secret',
  'previous_secret_expires_at',
  'updated_at',
] as const;

/** AccessStore over the registry's node:sqlite database; SqliteStore runs each call under its lock. */
export class SqliteAccessStore implements AccessStore {
  constructor(
    private readonly db: Database,
    private readonly org: string,
  ) {}

  async appendEvents(events: NewEvent[]) {
    this.db.transaction(() => {
      for (const event of events) {
        this.db.run(
          'INSERT INTO events (id, org, type, subtype, resource_prn, actor_prn, data, inserted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          randomUUID(),
          this.org,
          event.type,
          event.subtype,
          event.resource_prn,
          event.actor_prn,
          JSON.stringify(event.data),
          nowTimestamp(),
        );
      }
    });
  }

  async insertApiKey(row: ApiKeyRecord) {
    this.db.run(
      'INSERT INTO api_keys (id, org, name, role, hash, expires_at, revoked_at, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      row.id,
      this.org,
      row.name,
      row.role,
      row.hash,
      row.expires_at,
      row.revoked_at,
      row.inserted_at,
      row.updated_at,
    );
    return (await this.getApiKey(row.id))!;
  }
  async getApiKey(id: string) {
    const r = this.db.get<Row>('SELECT * FROM api_keys WHERE id = ? AND org = ?', id, this.org);
    return r && apiKeyOf(r);
  }
  async pageApiKeys(query: ListQuery) {
    const page = listTable<Row>(this.db, 'api_keys', { ...query, org: this.org });
    return { rows: page.rows.map((r) => ({ ...apiKeyOf(r), seq: Number(r.seq) })), more: page.more };
  }
  async revokeApiKey(id: string, at: string) {
    this.db.run(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?), updated_at = ? WHERE id = ? AND org = ?',
      at,
      at,
      id,
      this.org,
    );
    return this.getApiKey(id);
  }

  async insertWebhook(row: WebhookRecord) {
    return this.db.transaction(() => this.insertWebhookNow(row));
  }
  private insertWebhookNow(row: WebhookRecord) {
    // While no webhook exists the fan-out sleeps; the first one starts from the newest event.
    if (!this.db.get('SELECT 1 FROM webhooks WHERE org = ?', this.org)) {
      this.db.run(
        'INSERT INTO webhook_cursor (org, last_seq) VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM events WHERE org = ?)) ON CONFLICT (org) DO UPDATE SET last_seq = excluded.last_seq',
        this.org,
        this.org,
      );
    }
    this.db.run(
      'INSERT INTO webhooks (id, org, url, description, enabled_events, state, secret, previous_secret, previous_secret_expires_at, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      row.id,
      this.org,
      row.url,
      row.description,
      JSON.stringify(row.enabled_events),
      row.state,
      row.secret,
      row.previous_secret,
      row.previous_secret_expires_at,
      row.inserted_at,
      row.updated_at,
    );
    return webhookOf(this.db.get<Row>('SELECT * FROM webhooks WHERE id = ?', row.id)!);
  }
  async getWebhook(id: string) {
    const r = this.db.get<Row>('SELECT * FROM webhooks WHERE id = ? AND org = ?', id, this.org);
    return r && webhookOf(r);
  }
  async listWebhooks() {
    return this.allWebhooks();
  }
  private allWebhooks() {
    return this.db.all<Row>('SELECT * FROM webhooks WHERE org = ? ORDER BY seq', this.org).map(webhookOf);
  }
  async pageWebhooks(query: ListQuery) {
    const page = listTable<Row>(this.db, 'webhooks', { ...query, org: this.org });
    return { rows: page.rows.map((r) => ({ ...webhookOf(r), seq: Number(r.seq) })), more: page.more };
  }
  async updateWebhook(id: string, patch: Partial<WebhookRecord> & { updated_at: string }) {
    const sets: string[] = [];
    const params: SQLInputValue[] = [];
    for (const column of WEBHOOK_COLUMNS) {
      if (patch[column] === undefined) continue;
      sets.push(`${column} = ?`);
      const value = patch[column];
      params.push(column === 'enabled_events' ? JSON.stringify(value) : (value as SQLInputValue));
    }
    this.db.run(`UPDATE webhooks SET ${sets.join(', ')} WHERE id = ? AND org = ?`, ...params, id, this.org);
    return (await this.getWebhook(id))!;
  }
  async deleteWebhook(id: string) {
    return this.db.transaction(() => {
      this.db.run('DELETE FROM webhook_deliveries WHERE webhook_id = ? AND org = ?', id, this.org);
      return this.db.run('DELETE FROM webhooks WHERE id = ? AND org = ?', id, this.org).changes > 0;
    });
  }

  async fanOut(limit: number, route: (events: SequencedEvent[], webhooks: WebhookRecord[]) => NewDelivery[]) {
    return this.db.transaction(() => {
      let cursor = this.db.get<{ last_seq: number }>(
        'SELECT last_seq FROM webhook_cursor WHERE org = ?',
        this.org,
      )?.last_seq;
      if (cursor === undefined) {
        // The first fan-out starts now: webhooks are told about what happens after they exist.
        cursor = Number(
          this.db.get<{ s: number | null }>('SELECT MAX(seq) AS s FROM events WHERE org = ?', this.org)?.s ??
            0,
        );
        this.db.run('INSERT INTO webhook_cursor (org, last_seq) VALUES (?, ?)', this.org, cursor);
      }
      const rows = this.db.all<Row>(
        'SELECT * FROM events WHERE org = ? AND seq > ? ORDER BY seq LIMIT ?',
        this.org,
        cursor,
        limit,
      );
      if (rows.length === 0) return 0;
      const events = rows.map((r) => ({ ...eventOf(r), seq: Number(r.seq) }));
      for (const d of route(events, this.allWebhooks())) {
        this.db.run(
          'INSERT INTO webhook_deliveries (org, webhook_id, event_id, attempts, next_attempt_at, first_queued_at) VALUES (?, ?, ?, 0, ?, ?)',
          this.org,
          d.webhook_id,
          d.event_id,
          d.next_attempt_at,
          d.first_queued_at,
        );
      }
      this.db.run(
        'UPDATE webhook_cursor SET last_seq = ? WHERE org = ?',
        events[events.length - 1]!.seq,
        this.org,
      );
      return events.length;
    });
  }
  async heads(webhookId?: string) {
    return this.db
      .all<Row>(
        `SELECT d.seq, d.webhook_id, d.event_id, d.attempts, d.next_attempt_at, d.first_queued_at,
                e.seq AS event_seq, e.type, e.subtype, e.resource_prn, e.actor_prn, e.data, e.inserted_at
         FROM webhook_deliveries d
         JOIN (SELECT webhook_id, MIN(seq) AS seq FROM webhook_deliveries
               WHERE org = ? AND (? IS NULL OR webhook_id = ?) GROUP BY webhook_id) h
           ON d.seq = h.seq
         JOIN events e ON e.id = d.event_id`,
        this.org,
        webhookId ?? null,
        webhookId ?? null,
      )
      .map(deliveryOf);
  }
  async deliveryDone(seq: number) {
    this.db.run('DELETE FROM webhook_deliveries WHERE seq = ? AND org = ?', seq, this.org);
  }
  async deliveryRetry(seq: number, attempts: number, nextAttemptAt: number) {
    this.db.run(
      'UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ? WHERE seq = ? AND org = ?',
      attempts,
      nextAttemptAt,
      seq,
      this.org,
    );
  }
  async pendingCount(webhookId?: string) {
    const r =
      webhookId === undefined
        ? this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE org = ?', this.org)
        : this.db.get<{ n: number }>(
            'SELECT COUNT(*) AS n FROM webhook_deliveries WHERE org = ? AND webhook_id = ?',
            this.org,
            webhookId,
          );
    return Number(r?.n ?? 0);
  }
}
