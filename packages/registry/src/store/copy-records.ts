import type { Sql, Value } from './pg/connection.js';
import type { PgStore } from './pg/pg-store.js';
import type { Row } from './sqlite/database.js';
import type { SqliteStore, StoredTable } from './sqlite/sqlite-store.js';

/**
 * The records `migrate` copies from an embedded registry's SQLite database into PostgreSQL as they are: ids,
 * timestamps and `seq` (so listing order, page cursors and the event log's order carry over). Each table is
 * read in rowid pages and written one page per transaction with ON CONFLICT DO NOTHING, then every row of
 * the page is looked up by its key: a re-run, or a run after a crash, adds only what is missing, and a row
 * that did not arrive (another row holds one of its unique values) is reported, not skipped in silence.
 *
 * Binaries and their parts are not here: migrate-binaries.ts copies them with their content, verified.
 */

type Cell = Row[string];
type Convert = (value: Cell, where: string) => Value;

export interface TableCopy {
  table: string;
  /** For the summary: `3 <label>`. */
  label: string;
  /** What a row is known by in both databases (its primary key or the unique id). */
  key: readonly string[];
  /** Columns whose SQLite value the PostgreSQL column does not take as it is. */
  convert?: Readonly<Record<string, Convert>>;
  /** Rows left for migrate itself. */
  skip?: (row: Row) => boolean;
  /**
   * A table not every PostgreSQL schema has yet: copied when the target has it; otherwise its rows are
   * reported as left behind, and a run of a later peridio-registry (which has it) copies them.
   */
  later?: boolean;
}

/** Anything a column can hold as PostgreSQL gets it. Text stays text: JSON columns are TEXT on both sides. */
function plain(value: Cell, where: string): Value {
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  throw new Error(`${where} holds binary data, which no registry column keeps`);
}

/** SQLite's INTEGER 0/1 flag → BOOLEAN. */
const bool: Convert = (value, where) => {
  if (value === null) return null;
  if (value === 0 || value === 1 || value === 0n || value === 1n) return Number(value) === 1;
  const shown = typeof value === 'object' ? 'binary data' : JSON.stringify(String(value));
  throw new Error(`${where} is ${shown}, not a 0/1 flag`);
};

/** Copied before the binaries: what they refer to. `organization` is written by migrate, last. */
export const BEFORE_CONTENT: readonly TableCopy[] = [
  { table: 'meta', label: 'settings', key: ['key'], skip: (row) => row.key === 'organization' },
  { table: 'artifacts', label: 'artifacts', key: ['id'] },
  { table: 'artifact_versions', label: 'artifact versions', key: ['id'] },
  { table: 'signing_keys', label: 'signing keys', key: ['id'] },
];

/**
 * Copied after the binaries, parents before children. `releases.next_release_id` has no foreign key in
 * either schema (the release graph keeps the chain), so releases linked in any order go in as they are;
 * a later schema that adds one must make it DEFERRABLE or split the link into an UPDATE here.
 */
export const AFTER_CONTENT: readonly TableCopy[] = [
  { table: 'binary_signatures', label: 'binary signatures', key: ['id'] },
  { table: 'products', label: 'products', key: ['id'], convert: { archived: bool } },
  { table: 'cohorts', label: 'cohorts', key: ['id'] },
  { table: 'devices', label: 'devices', key: ['id'], convert: { quarantined: bool } },
  { table: 'bundles', label: 'bundles', key: ['id'] },
  { table: 'bundle_binaries', label: 'bundle binaries', key: ['bundle_id', 'idx'] },
  { table: 'bundle_signatures', label: 'bundle signatures', key: ['id'] },
  {
    table: 'releases',
    label: 'releases',
    key: ['id'],
    convert: { required: bool, disabled: bool },
  },
  { table: 'release_claims', label: 'phase claims', key: ['release_id', 'device_id'] },
  { table: 'bundle_overrides', label: 'bundle overrides', key: ['id'] },
  { table: 'bundle_override_devices', label: 'override devices', key: ['override_id', 'device_id'] },
  { table: 'events', label: 'events', key: ['id'] },
  // ---- access control: extension point ----------------------------------------------------------------
  // PostgreSQL keeps these once its schema has them (another change adds them); until then they are
  // reported as left behind. Same columns on both sides: nothing to convert. The fan-out cursor and the
  // delivery queue are not records to copy (NOT_COPIED): when adding the PostgreSQL fan-out, check that
  // a missing cursor row starts at the newest event, so the migrated events are not delivered again.
  { table: 'api_keys', label: 'API keys', key: ['id'], later: true },
  { table: 'webhooks', label: 'webhooks', key: ['id'], later: true },
];

/** Every other table of the SQLite schema, and why it is not copied. */
const NOT_COPIED: Readonly<Record<string, string>> = {
  binaries: 'copied by migrate with their content',
  binary_parts: 'copied by migrate with their binary',
  content_garbage: 'local files to delete; the S3 content has its own',
  leases: 'held by running instances only',
  multipart_uploads: "the S3 uploads of a registry's own bucket; migrate starts its own",
  webhook_deliveries: 'pending deliveries are not carried over',
  webhook_cursor: 'the fan-out position of this database',
  sqlite_sequence: "SQLite's own",
};

export interface TableCount {
  table: string;
  label: string;
  /** Rows of the source, all found in the target afterwards unless a problem says otherwise. */
  rows: number;
  /** Of those, written by this run (the rest were there already). */
  inserted: number;
}

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected name ${JSON.stringify(name)}`);
  return `"${name}"`;
};

/** Parameters per statement stay well under PostgreSQL's 65535. */
const MAX_PARAMS = 30_000;
const MAX_ROWS = 500;

export class RecordCopier {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  readonly counts: TableCount[] = [];

  private constructor(
    private readonly source: SqliteStore,
    private readonly target: PgStore,
    private readonly sourceTables: Map<string, StoredTable>,
    private readonly targetColumns: Map<string, Set<string>>,
  ) {}

  static async open(source: SqliteStore, target: PgStore): Promise<RecordCopier> {
    const tables = new Map((await source.describeTables()).map((t) => [t.name, t]));
    const columns = new Map<string, Set<string>>();
    for (const { table_name, column_name } of await target.sql.all<{
      table_name: string;
      column_name: string;
    }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
    )) {
      if (!columns.has(table_name)) columns.set(table_name, new Set());
      columns.get(table_name)!.add(column_name);
    }
    return new RecordCopier(source, target, tables, columns);
  }

  /** Copies the tables in order; returns their counts (also kept in `counts`). */
  async copy(tables: readonly TableCopy[], log: (line: string) => void): Promise<TableCount[]> {
    const counts: TableCount[] = [];
    for (const entry of tables) {
      const stored = this.sourceTables.get(entry.table);
      if (!stored) continue; // a data dir of an older schema: nothing of it to copy
      const into = this.targetColumns.get(entry.table);
      if (!into) {
        if (stored.rows > 0)
          this.problems.push(
            `${entry.table}: ${stored.rows} ${entry.label} not copied, the target database has no such table` +
              (entry.later ? ' yet (a later peridio-registry keeps them: run migrate again with it)' : ''),
          );
        continue;
      }
      const absent = stored.columns.filter((c) => !into.has(c));
      if (absent.length > 0) {
        this.problems.push(
          `${entry.table}: not copied, the target database has no column ${absent.join(', ')} (a newer data dir than this peridio-registry?)`,
        );
        continue;
      }
      const count = await this.copyTable(entry, stored.columns);
      counts.push(count);
      log(`${entry.table}: ${count.rows} rows, ${count.inserted} written`);
    }
    this.counts.push(...counts);
    return counts;
  }

  private async copyTable(entry: TableCopy, columns: string[]): Promise<TableCount> {
    const count: TableCount = { table: entry.table, label: entry.label, rows: 0, inserted: 0 };
    const limit = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / columns.length)));
    for (let after = 0; ;) {
      const page = await this.source.tablePage(entry.table, after, limit);
      if (page.length === 0) return count;
      const from = after;
      after = page.at(-1)!.rowid;
      const rows = page.map((p) => p.row).filter((row) => !entry.skip?.(row));
      if (rows.length === 0) continue;
      const values = rows.map((row) =>
        columns.map((c) => (entry.convert?.[c] ?? plain)(row[c] ?? null, `${entry.table}.${c}`)),
      );
      const keyAt = entry.key.map((k) => columns.indexOf(k));
      const { inserted, missing } = await this.target
        .sqlTransaction(async (sql) => {
          const inserted = await insertRows(sql, entry.table, columns, values);
          const keys = values.map((v) => keyAt.map((i) => v[i]!));
          return { inserted, missing: await missingKeys(sql, entry.table, entry.key, keys) };
        })
        .catch((err: unknown) => {
          throw new Error(`copying ${entry.table} (rows after rowid ${from}): ${(err as Error).message}`, {
            cause: err,
          });
        });
      count.rows += rows.length;
      count.inserted += inserted;
      for (const key of missing.slice(0, 5))
        this.problems.push(
          `${entry.table} ${entry.key.map((k, i) => `${k}=${String(key[i])}`).join(' ')}: not copied, another row of the target holds one of its unique values`,
        );
      if (missing.length > 5)
        this.problems.push(`${entry.table}: ${missing.length - 5} more rows not copied`);
    }
  }

  /** Source tables migrate neither copies nor knows to leave: a later schema's, reported so none is lost. */
  checkAccounted(): void {
    const known = new Set([...BEFORE_CONTENT, ...AFTER_CONTENT].map((t) => t.table));
    for (const table of this.sourceTables.values()) {
      if (known.has(table.name)) continue;
      const why = NOT_COPIED[table.name];
      if (why === undefined) {
        if (table.rows > 0)
          this.problems.push(
            `${table.name}: ${table.rows} rows not copied, migrate does not know this table`,
          );
      } else if (table.name === 'webhook_deliveries' && table.rows > 0) {
        this.notes.push(`${table.rows} pending webhook deliveries not carried over (they are not retried)`);
      }
    }
  }
}

/** `($1, $2), ($3, $4)…` for the rows, their values appended to `params`. */
function tuples(rows: Value[][], params: Value[]): string {
  return rows.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(', ')})`).join(', ');
}

async function insertRows(sql: Sql, table: string, columns: string[], values: Value[][]): Promise<number> {
  const params: Value[] = [];
  return sql.run(
    `INSERT INTO ${ident(table)} (${columns.map(ident).join(', ')}) VALUES ${tuples(values, params)} ON CONFLICT DO NOTHING`,
    params,
  );
}

/** The keys of `keys` that the target does not hold. */
async function missingKeys(
  sql: Sql,
  table: string,
  key: readonly string[],
  keys: Value[][],
): Promise<Value[][]> {
  const params: Value[] = [];
  const cols = key.map(ident).join(', ');
  const found = await sql.all<Record<string, Value>>(
    `SELECT ${cols} FROM ${ident(table)} WHERE (${cols}) IN (${tuples(keys, params)})`,
    params,
  );
  const text = (k: Value[]) => JSON.stringify(k.map(String));
  const present = new Set(found.map((r) => text(key.map((c) => r[c]!))));
  return keys.filter((k) => !present.has(text(k)));
}

/** One row (a binary's record, written by migrate's content path): false when its key was there already. */
export async function insertRecord(
  target: PgStore,
  table: string,
  row: Record<string, Value>,
): Promise<boolean> {
  const columns = Object.keys(row);
  return (await insertRows(target.sql, table, columns, [columns.map((c) => row[c]!)])) === 1;
}

/**
 * Copied rows keep their `seq`, so every sequence of the target (every table with a serial, whether
 * migrate wrote it or not) is moved past its table's highest value: new rows must not collide. Never
 * moved back, so a re-run on a registry already in use changes nothing.
 */
export async function advanceSequences(target: PgStore): Promise<number> {
  const serials = await target.sql.all<{ table_name: string; column_name: string; sequence: string }>(
    `SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) AS sequence
     FROM information_schema.columns
     WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'`,
  );
  let moved = 0;
  for (const s of serials) {
    moved += await target.sql.run(
      `SELECT setval($1::regclass, m) FROM (SELECT max(${ident(s.column_name)}) AS m FROM ${ident(s.table_name)}) top
       WHERE m IS NOT NULL AND m > COALESCE(pg_sequence_last_value($1::regclass), 0)`,
      [s.sequence],
    );
  }
  return moved;
}
