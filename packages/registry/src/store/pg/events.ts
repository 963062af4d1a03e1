import { randomUUID } from 'node:crypto';
import type { EventRecord } from '../../releases/types.js';
import { listRows } from '../../list.js';
import { nowTimestamp } from '../../time.js';
import { eventConditions } from '../event-filters.js';
import type { NewEvent, Page } from '../release-store.js';
import { SEARCH } from '../sqlite/release-rows.js';
import type { Sql, Value } from './connection.js';
import { listFiltered } from './list.js';

/**
 * The event log on PostgreSQL (the table of PG migration 3), shared by whoever appends to it: the audit
 * trail, webhooks, and release management. Each inserting transaction's id lands in `xid` by the column's
 * default, which is what the webhook fan-out orders by (access-store.ts).
 */
export const EVENT_COLUMNS = 'id, type, subtype, resource_prn, actor_prn, data, inserted_at';

export type EventRow = Omit<EventRecord, 'data'> & { data: string };

export const eventOf = (r: EventRow): EventRecord => ({
  id: r.id,
  type: r.type,
  subtype: r.subtype,
  resource_prn: r.resource_prn,
  actor_prn: r.actor_prn,
  data: JSON.parse(r.data) as EventRecord['data'],
  inserted_at: r.inserted_at,
});

/** One multi-row INSERT: inside a transaction, or a transaction of its own on the pool. */
export async function insertEvents(sql: Sql, org: string, events: NewEvent[]): Promise<EventRecord[]> {
  if (events.length === 0) return [];
  const params: Value[] = [];
  const rows = events.map((e) => {
    params.push(
      randomUUID(),
      org,
      e.type,
      e.subtype,
      e.resource_prn,
      e.actor_prn,
      JSON.stringify(e.data),
      nowTimestamp(),
    );
    const n = params.length - 8;
    return `(${Array.from({ length: 8 }, (_, i) => `$${n + i + 1}`).join(', ')})`;
  });
  const inserted = await sql.all<EventRow>(
    `INSERT INTO events (id, org, type, subtype, resource_prn, actor_prn, data, inserted_at)
     VALUES ${rows.join(', ')} RETURNING ${EVENT_COLUMNS}`,
    params,
  );
  return inserted.map(eventOf);
}

/** Events as they were recorded elsewhere (id and time kept), in order; an id already here is skipped. */
export async function copyEvents(sql: Sql, org: string, events: EventRecord[]): Promise<void> {
  for (const e of events) {
    await sql.run(
      `INSERT INTO events (id, org, type, subtype, resource_prn, actor_prn, data, inserted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
      [e.id, org, e.type, e.subtype, e.resource_prn, e.actor_prn, JSON.stringify(e.data), e.inserted_at],
    );
  }
}

/** `GET /events`: one page, with the same filters and errors as the SQLite store. */
export async function listEvents(sql: Sql, org: string, query: URLSearchParams): Promise<Page<EventRecord>> {
  const conditions = eventConditions(query);
  const { fields, columns } = SEARCH.events!;
  const repo = {
    list: (q: Parameters<typeof listFiltered>[3]) =>
      listFiltered<EventRow & { seq: number }>(sql, 'events', columns, q, (next) =>
        conditions.length
          ? conditions.map((c) => `t.${c.column} ${c.op} ${next(c.value)}`).join(' AND ')
          : 'true',
      ),
  };
  const page = await listRows({ org }, query, repo, fields);
  return { items: page.rows.map(eventOf), next_page: page.next_page };
}
