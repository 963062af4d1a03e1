import { randomUUID } from 'node:crypto';
import type { EventRecord } from '../../releases/types.js';
import { nowTimestamp } from '../../time.js';
import type { NewEvent } from '../release-store.js';
import type { Sql, Value } from './connection.js';

/**
 * Writes to the event log on PostgreSQL (the table of PG migration 3), which the audit trail, webhooks and
 * release management share. Each inserting transaction's id lands in `xid` by the column's default (PG
 * migration 5): what the webhook fan-out orders by (access-store.ts).
 */
const COLUMNS = 'id, type, subtype, resource_prn, actor_prn, data, inserted_at';

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

/** New events in one multi-row INSERT, in order: inside a transaction, or as one statement on the pool. */
export async function insertEvents(sql: Sql, org: string, events: NewEvent[]): Promise<EventRecord[]> {
  if (events.length === 0) return [];
  const params: Value[] = [];
  const rows = events.map((e) => {
    const at = params.length;
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
    return `(${Array.from({ length: 8 }, (_, i) => `$${at + i + 1}`).join(', ')})`;
  });
  const inserted = await sql.all<EventRow>(
    `INSERT INTO events (id, org, type, subtype, resource_prn, actor_prn, data, inserted_at)
     VALUES ${rows.join(', ')} RETURNING ${COLUMNS}`,
    params,
  );
  return inserted.map(eventOf);
}
