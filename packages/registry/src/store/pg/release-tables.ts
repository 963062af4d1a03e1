import { listRows } from '../../list.js';
import type { EventRecord } from '../../releases/types.js';
import { isUnique, type Row, SEARCH } from '../release-rows.js';
import { TakenError, type NewEvent, type Page } from '../release-store.js';
import type { ListQuery } from '../store.js';
import type { Sql, Value } from './connection.js';
import { insertEvents } from './events.js';
import { listFiltered } from './list.js';

/** Transactions over the registry's PostgreSQL database (PgStore): statements on the pool, or one transaction. */
export interface PgDatabase {
  readonly sql: Sql;
  sqlTransaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
}

/** A unique violation of `fn` as the TakenError naming the field, as the SQLite store raises it. */
export async function unique<T>(field: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUnique(err)) throw new TakenError(field);
    throw err;
  }
}

/**
 * Inserts with `ON CONFLICT DO NOTHING RETURNING *`, or finds the row that was there: a concurrent insert of
 * the same key (another instance) is waited for, and then found. Found nothing either (the row was deleted
 * between the two statements): tried again.
 */
export async function insertOrFind(
  sql: Sql,
  insert: [string, Value[]],
  find: [string, Value[]],
): Promise<{ row: Row; created: boolean }> {
  for (;;) {
    const row = await sql.get<Row>(...insert);
    if (row) return { row, created: true };
    const existing = await sql.get<Row>(...find);
    if (existing) return { row: existing, created: false };
  }
}

export const jsonOrNull = (v: unknown) => (v === null ? null : JSON.stringify(v));

export async function insertEvent(sql: Sql, org: string, event: NewEvent): Promise<EventRecord> {
  return (await insertEvents(sql, org, [event]))[0]!;
}

/** One organization's rows of the release tables: the reads every part of the PostgreSQL release store shares. */
export abstract class PgReleaseTables {
  constructor(
    protected readonly db: PgDatabase,
    protected readonly org: string,
  ) {}

  protected one(sql: Sql, table: string, id: string, lock = ''): Promise<Row | undefined> {
    return sql.get<Row>(`SELECT * FROM ${table} WHERE id = $1 AND org = $2 ${lock}`, [id, this.org]);
  }

  protected async rows(
    query: URLSearchParams,
    table: string,
    scope?: Parameters<typeof listFiltered>[4],
  ): Promise<Page<Row>> {
    const { fields, columns } = SEARCH[table]!;
    const repo = {
      list: (q: ListQuery) => listFiltered<Row & { seq: number }>(this.db.sql, table, columns, q, scope),
    };
    const page = await listRows({ org: this.org }, query, repo, fields);
    return { items: page.rows, next_page: page.next_page };
  }

  protected async page<T>(
    query: URLSearchParams,
    table: string,
    map: (r: Row) => T,
    scope?: Parameters<typeof listFiltered>[4],
  ): Promise<Page<T>> {
    const page = await this.rows(query, table, scope);
    return { items: page.items.map(map), next_page: page.next_page };
  }
}
