import { COLUMNS, type Columns } from '../sqlite/list.js';
import type { Filter, ListQuery, Page } from '../store.js';
import type { Sql, Value } from './connection.js';

/** A filter as SQL over alias `t`; `next` numbers the placeholders. */
function condition(filter: Filter, columns: Columns, next: (v: Value) => string): string {
  if ('never' in filter) return 'false';
  const col = columns[filter.field];
  if (!col) throw new Error(`field ${filter.field} cannot be searched here`);
  if ('prn' in filter) return `(t.org = ${next(filter.prn.org)} AND ${col} = ${next(filter.prn.id)})`;
  if (filter.op === 'contains') return `strpos(${col}, ${next(filter.value)}) > 0`;
  if (filter.op === 'icontains') return `strpos(lower(${col}), lower(${next(filter.value)})) > 0`;
  if (filter.secondsOnly) return `substr(${col}, 1, 19) ${filter.op} ${next(filter.value)}`;
  return `${col} ${filter.op} ${next(filter.value)}`;
}

/** One page of a table in insertion order, after the cursor, filtered (the same columns as SQLite's). */
export function listTable<T>(sql: Sql, table: keyof typeof COLUMNS, query: ListQuery): Promise<Page<T>> {
  return listFiltered<T>(sql, table, COLUMNS[table], query);
}

/**
 * listTable over any table with a `seq` and an `org`, its search columns, and an optional fixed scope: SQL
 * over alias `t` that takes its values through `param` (which returns the placeholder).
 */
export async function listFiltered<T>(
  sql: Sql,
  table: string,
  columns: Columns,
  query: ListQuery,
  scope: (param: (v: Value) => string) => string = () => 'true',
): Promise<Page<T>> {
  const params: Value[] = [query.org];
  const next = (v: Value) => {
    params.push(v);
    return `$${params.length}`;
  };
  const conditions = [scope(next), ...query.filters.map((f) => condition(f, columns, next))];
  const where = conditions.map((c) => `(${c})`).join(' AND ');
  const asc = query.order === 'asc';
  const rows = await sql.all<T>(
    `SELECT t.* FROM ${table} t WHERE t.org = $1 AND ${where} AND t.seq ${asc ? '>' : '<'} ${next(query.after)}
     ORDER BY t.seq ${asc ? 'ASC' : 'DESC'} LIMIT ${next(query.limit + 1)}`,
    params,
  );
  return { rows: rows.slice(0, query.limit), more: rows.length > query.limit };
}
