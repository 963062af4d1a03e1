import type { SQLInputValue } from 'node:sqlite';
import type { Filter, ListQuery, Page } from '../store.js';
import type { Database } from './database.js';

/** Search field → SQL expression over alias `t`, per table. A field missing here cannot be searched. */
export type Columns = Record<string, string>;

export const COLUMNS = {
  artifacts: {
    description: 't.description',
    inserted_at: 't.inserted_at',
    name: 't.name',
    prn: 't.id',
    updated_at: 't.updated_at',
  },
  artifact_versions: {
    artifact_prn: 't.artifact_id',
    description: 't.description',
    inserted_at: 't.inserted_at',
    prn: 't.id',
    updated_at: 't.updated_at',
    version: 't.version',
  },
  binaries: {
    artifact_version_prn: 't.artifact_version_id',
    description: 't.description',
    hash: 't.hash',
    inserted_at: 't.inserted_at',
    prn: 't.id',
    size: 't.size',
    state: 't.state',
    target: 't.target',
    updated_at: 't.updated_at',
  },
  signing_keys: {
    inserted_at: 't.inserted_at',
    keyid: 't.keyid',
    name: 't.name',
    prn: 't.id',
    updated_at: 't.updated_at',
    value: 't.value',
  },
  binary_signatures: {
    binary_prn: 't.binary_id',
    inserted_at: 't.inserted_at',
    prn: 't.id',
    signing_key_prn: 't.signing_key_id',
    'signature.signing_key.keyid': '(SELECT k.keyid FROM signing_keys k WHERE k.id = t.signing_key_id)',
    updated_at: 't.updated_at',
  },
  api_keys: {
    inserted_at: 't.inserted_at',
    name: 't.name',
    role: 't.role',
    updated_at: 't.updated_at',
  },
  webhooks: {
    description: 't.description',
    inserted_at: 't.inserted_at',
    state: 't.state',
    updated_at: 't.updated_at',
    url: 't.url',
  },
} satisfies Record<string, Columns>;

function condition(filter: Filter, columns: Columns): { sql: string; params: SQLInputValue[] } {
  if ('never' in filter) return { sql: '0', params: [] };
  const col = columns[filter.field];
  if (!col) throw new Error(`field ${filter.field} cannot be searched here`);
  if ('prn' in filter) return { sql: `(t.org = ? AND ${col} = ?)`, params: [filter.prn.org, filter.prn.id] };
  if (filter.op === 'contains') return { sql: `instr(${col}, ?) > 0`, params: [filter.value] };
  if (filter.op === 'icontains') return { sql: `instr(lower(${col}), lower(?)) > 0`, params: [filter.value] };
  if (filter.secondsOnly) return { sql: `substr(${col}, 1, 19) ${filter.op} ?`, params: [filter.value] };
  return { sql: `${col} ${filter.op} ?`, params: [filter.value] };
}

/** One page of a table in insertion order, after the cursor, filtered. */
export function listTable<T>(db: Database, table: keyof typeof COLUMNS, query: ListQuery): Page<T> {
  return listFiltered<T>(db, table, COLUMNS[table], query);
}

/** listTable over any table with a `seq` and an `org`, its search columns, and an optional fixed scope. */
export function listFiltered<T>(
  db: Database,
  table: string,
  columns: Columns,
  query: ListQuery,
  scope: { sql: string; params: SQLInputValue[] } = { sql: '1', params: [] },
): Page<T> {
  const conditions = [scope, ...query.filters.map((f) => condition(f, columns))];
  const where = conditions.map((c) => `(${c.sql})`).join(' AND ');
  const asc = query.order === 'asc';
  const rows = db.all<T>(
    `SELECT t.* FROM ${table} t WHERE t.org = ? AND (${where}) AND t.seq ${asc ? '>' : '<'} ?
     ORDER BY t.seq ${asc ? 'ASC' : 'DESC'} LIMIT ?`,
    query.org,
    ...conditions.flatMap((c) => c.params),
    query.after,
    query.limit + 1,
  );
  return { rows: rows.slice(0, query.limit), more: rows.length > query.limit };
}
