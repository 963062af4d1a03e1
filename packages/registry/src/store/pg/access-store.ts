import type {
  AccessStore,
  ApiKeyRecord,
  DeliveryRecord,
  NewDelivery,
  SequencedEvent,
  WebhookRecord,
} from '../access-store.js';
import type { NewEvent } from '../release-store.js';
import type { ListQuery } from '../store.js';
import type { Sql, Value } from './connection.js';
import { eventOf, insertEvents, type EventRow } from './events.js';
import { listTable } from './list.js';
import type { PgDatabase } from './release-tables.js';

type ApiKeyRow = ApiKeyRecord & { seq: number };
type WebhookRow = Omit<WebhookRecord, 'enabled_events'> & { seq: number; enabled_events: string };
type DeliveryRow = Omit<DeliveryRecord, 'event'> & {
  event_seq: number;
  type: SequencedEvent['type'];
  subtype: string;
  resource_prn: string | null;
  actor_prn: string | null;
  data: string;
  inserted_at: string;
};

const apiKeyOf = (r: ApiKeyRow): ApiKeyRecord & { seq: number } => ({
  seq: r.seq,
  id: r.id,
  name: r.name,
  role: r.role,
  hash: r.hash,
  expires_at: r.expires_at ?? null,
  revoked_at: r.revoked_at ?? null,
  inserted_at: r.inserted_at,
  updated_at: r.updated_at,
});
const withoutSeq = <T extends { seq: number }>({ seq: _seq, ...rest }: T): Omit<T, 'seq'> => rest;

const webhookOf = (r: WebhookRow): WebhookRecord & { seq: number } => ({
  seq: r.seq,
  id: r.id,
  url: r.url,
  description: r.description ?? null,
  enabled_events: JSON.parse(r.enabled_events) as string[],
  state: r.state,
  secret: r.secret,
  previous_secret: r.previous_secret ?? null,
  previous_secret_expires_at: r.previous_secret_expires_at ?? null,
  inserted_at: r.inserted_at,
  updated_at: r.updated_at,
});

const deliveryOf = (r: DeliveryRow): DeliveryRecord => ({
  seq: r.seq,
  webhook_id: r.webhook_id,
  event_id: r.event_id,
  event: {
    ...eventOf({ ...r, id: r.event_id }),
    seq: r.event_seq,
  },
  attempts: r.attempts,
  next_attempt_at: r.next_attempt_at,
  first_queued_at: r.first_queued_at,
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

/** Events of one INSERT statement at most (PostgreSQL takes up to 65535 parameters, 8 per event). */
const EVENTS_PER_STATEMENT = 1000;

/**
 * The fan-out's position. PostgreSQL hands out `seq` when a row is inserted but transactions commit in any
 * order, so an event with a lower `seq` can become visible after one with a higher: a cursor on `seq`
 * alone would skip it for good. The fan-out therefore reads only events whose inserting transaction
 * (`xid`, the column's default) is older than every transaction still running — that set can no longer
 * grow — in (xid, seq) order, and keeps its cursor as that pair.
 */
const FINISHED_HORIZON = 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin';

/**
 * AccessStore over PostgreSQL (tables of PG migration 5), for several registry instances on one database.
 * Each method is one statement or one transaction at READ COMMITTED; what concurrent instances must not
 * break is held by row locks: the fan-out cursor row is locked `FOR UPDATE`, so two instances fanning out
 * at once queue each event once, in one order. Who sends a webhook's head of line is decided by a lease
 * (the dispatcher's), not here.
 */
export class PgAccessStore implements AccessStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly org: string,
  ) {}

  async appendEvents(events: NewEvent[]) {
    if (events.length <= EVENTS_PER_STATEMENT) {
      await insertEvents(this.db.sql, this.org, events);
      return;
    }
    await this.db.sqlTransaction(async (tx) => {
      for (let i = 0; i < events.length; i += EVENTS_PER_STATEMENT)
        await insertEvents(tx, this.org, events.slice(i, i + EVENTS_PER_STATEMENT));
    });
  }

  async insertApiKey(row: ApiKeyRecord) {
    const r = await this.db.sql.get<ApiKeyRow>(
      `INSERT INTO api_keys (id, org, name, role, hash, expires_at, revoked_at, inserted_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        row.id,
        this.org,
        row.name,
        row.role,
        row.hash,
        row.expires_at,
        row.revoked_at,
        row.inserted_at,
        row.updated_at,
      ],
    );
    return withoutSeq(apiKeyOf(r!));
  }
  async getApiKey(id: string) {
    const r = await this.db.sql.get<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1 AND org = $2', [
      id,
      this.org,
    ]);
    return r && withoutSeq(apiKeyOf(r));
  }
  async pageApiKeys(query: ListQuery) {
    const page = await listTable<ApiKeyRow>(this.db.sql, 'api_keys', { ...query, org: this.org });
    return { rows: page.rows.map(apiKeyOf), more: page.more };
  }
  async revokeApiKey(id: string, at: string) {
    // One statement: of two revokes racing, the first time stays.
    const r = await this.db.sql.get<ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1), updated_at = $1
       WHERE id = $2 AND org = $3 RETURNING *`,
      [at, id, this.org],
    );
    return r && withoutSeq(apiKeyOf(r));
  }

  async insertWebhook(row: WebhookRecord) {
    return this.db.sqlTransaction(async (tx) => {
      // While no webhook exists the fan-out sleeps; the first one starts from the newest event.
      // The cursor row is locked first, as the fan-out locks it: the two never interleave.
      await this.lockCursor(tx);
      if (!(await tx.get('SELECT 1 FROM webhooks WHERE org = $1 LIMIT 1', [this.org]))) {
        const newest = await this.newestCommitted(tx);
        await tx.run('UPDATE webhook_cursor SET last_xid = $1::xid8, last_seq = $2 WHERE org = $3', [
          newest.xid,
          newest.seq,
          this.org,
        ]);
      }
      const r = await tx.get<WebhookRow>(
        `INSERT INTO webhooks (id, org, url, description, enabled_events, state, secret, previous_secret,
                               previous_secret_expires_at, inserted_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
        [
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
        ],
      );
      return withoutSeq(webhookOf(r!));
    });
  }
  async getWebhook(id: string) {
    const r = await this.db.sql.get<WebhookRow>('SELECT * FROM webhooks WHERE id = $1 AND org = $2', [
      id,
      this.org,
    ]);
    return r && withoutSeq(webhookOf(r));
  }
  async listWebhooks() {
    return (await this.allWebhooks(this.db.sql)).map(withoutSeq);
  }
  private async allWebhooks(sql: Sql, lock = '') {
    const rows = await sql.all<WebhookRow>(`SELECT * FROM webhooks WHERE org = $1 ORDER BY seq ${lock}`, [
      this.org,
    ]);
    return rows.map(webhookOf);
  }
  async pageWebhooks(query: ListQuery) {
    const page = await listTable<WebhookRow>(this.db.sql, 'webhooks', { ...query, org: this.org });
    return { rows: page.rows.map(webhookOf), more: page.more };
  }
  async updateWebhook(id: string, patch: Partial<WebhookRecord> & { updated_at: string }) {
    const sets: string[] = [];
    const params: Value[] = [];
    for (const column of WEBHOOK_COLUMNS) {
      const value = patch[column];
      if (value === undefined) continue;
      params.push(column === 'enabled_events' ? JSON.stringify(value) : value);
      sets.push(`${column} = $${params.length}`);
    }
    const r = await this.db.sql.get<WebhookRow>(
      `UPDATE webhooks SET ${sets.join(', ')} WHERE id = $${params.length + 1} AND org = $${params.length + 2}
       RETURNING *`,
      [...params, id, this.org],
    );
    return withoutSeq(webhookOf(r!));
  }
  async deleteWebhook(id: string) {
    // Its queued deliveries go with it (ON DELETE CASCADE), in the same statement.
    return (await this.db.sql.run('DELETE FROM webhooks WHERE id = $1 AND org = $2', [id, this.org])) > 0;
  }

  async fanOut(limit: number, route: (events: SequencedEvent[], webhooks: WebhookRecord[]) => NewDelivery[]) {
    return this.db.sqlTransaction(async (tx) => {
      // Another instance fanning out now waits here, then reads the cursor as that one left it.
      const cursor = await this.lockCursor(tx);
      // The horizon is read before the events, so the events' snapshot sees every transaction below it.
      const { xmin } = (await tx.get<{ xmin: string }>(FINISHED_HORIZON))!;
      const rows = await tx.all<EventRow & { seq: number; xid: string }>(
        `SELECT seq, id, type, subtype, resource_prn, actor_prn, data, inserted_at, xid::text AS xid
         FROM events
         WHERE org = $1 AND (xid, seq) > ($2::xid8, $3) AND xid < $4::xid8
         ORDER BY xid, seq LIMIT $5`,
        [this.org, cursor.xid, cursor.seq, xmin, limit],
      );
      if (rows.length === 0) return 0;
      const events = rows.map((r) => ({ ...eventOf(r), seq: r.seq }));
      // Read after the events, and share-locked: a webhook whose creation committed before an event did is
      // seen here, and one being deleted is waited for (and then not routed to) instead of failing the
      // deliveries' foreign key.
      const webhooks = (await this.allWebhooks(tx, 'FOR KEY SHARE')).map(withoutSeq);
      const deliveries = route(events, webhooks);
      for (let i = 0; i < deliveries.length; i += EVENTS_PER_STATEMENT) {
        const chunk = deliveries.slice(i, i + EVENTS_PER_STATEMENT);
        const params: Value[] = [];
        const values = chunk.map((d) => {
          params.push(this.org, d.webhook_id, d.event_id, d.next_attempt_at, d.first_queued_at);
          const n = params.length;
          return `($${n - 4}, $${n - 3}, $${n - 2}, 0, $${n - 1}, $${n})`;
        });
        // One statement per chunk, in event order: `seq` of the deliveries is their order per webhook.
        await tx.run(
          `INSERT INTO webhook_deliveries (org, webhook_id, event_id, attempts, next_attempt_at, first_queued_at)
           VALUES ${values.join(', ')}`,
          params,
        );
      }
      const last = rows[rows.length - 1]!;
      await tx.run('UPDATE webhook_cursor SET last_xid = $1::xid8, last_seq = $2 WHERE org = $3', [
        last.xid,
        last.seq,
        this.org,
      ]);
      return events.length;
    });
  }

  /** The cursor row, created at the newest finished event the first time, locked for this transaction. */
  private async lockCursor(tx: Sql): Promise<{ xid: string; seq: number }> {
    const select =
      'SELECT last_xid::text AS xid, last_seq AS seq FROM webhook_cursor WHERE org = $1 FOR UPDATE';
    const found = await tx.get<{ xid: string; seq: number }>(select, [this.org]);
    if (found) return found;
    // The first fan-out starts now: webhooks are told about what happens after they exist.
    const newest = await this.newestCommitted(tx);
    await tx.run(
      `INSERT INTO webhook_cursor (org, last_xid, last_seq) VALUES ($1, $2::xid8, $3)
       ON CONFLICT (org) DO NOTHING`,
      [this.org, newest.xid, newest.seq],
    );
    return (await tx.get<{ xid: string; seq: number }>(select, [this.org]))!;
  }

  /**
   * Where a fan-out starts: the newest event committed now. An event of a transaction still running is
   * concurrent with that start and may be passed over; every later one is fanned out.
   */
  private async newestCommitted(tx: Sql): Promise<{ xid: string; seq: number }> {
    const r = await tx.get<{ xid: string; seq: number }>(
      'SELECT xid::text AS xid, seq FROM events WHERE org = $1 ORDER BY xid DESC, seq DESC LIMIT 1',
      [this.org],
    );
    return r ?? { xid: '0', seq: 0 };
  }

  async heads(webhookId?: string) {
    const rows = await this.db.sql.all<DeliveryRow>(
      `SELECT DISTINCT ON (d.webhook_id)
              d.seq, d.webhook_id, d.event_id, d.attempts, d.next_attempt_at, d.first_queued_at,
              e.seq AS event_seq, e.type, e.subtype, e.resource_prn, e.actor_prn, e.data, e.inserted_at
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.org = $1 AND ($2::text IS NULL OR d.webhook_id = $2)
       ORDER BY d.webhook_id, d.seq`,
      [this.org, webhookId ?? null],
    );
    return rows.map(deliveryOf);
  }
  async deliveryDone(seq: number) {
    await this.db.sql.run('DELETE FROM webhook_deliveries WHERE seq = $1 AND org = $2', [seq, this.org]);
  }
  async deliveryRetry(seq: number, attempts: number, nextAttemptAt: number) {
    await this.db.sql.run(
      'UPDATE webhook_deliveries SET attempts = $1, next_attempt_at = $2 WHERE seq = $3 AND org = $4',
      [attempts, nextAttemptAt, seq, this.org],
    );
  }
  async pendingCount(webhookId?: string) {
    const r = await this.db.sql.get<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM webhook_deliveries WHERE org = $1 AND ($2::text IS NULL OR webhook_id = $2)`,
      [this.org, webhookId ?? null],
    );
    return r?.n ?? 0;
  }
}
