import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { ReleaseStore } from '../release-store.js';
import type { AccessStore } from '../access-store.js';
import type { Repositories, Store } from '../store.js';
import { PgAccessStore } from './access-store.js';
import { sqlOn, translate, TYPES, type Sql } from './connection.js';
import { PG_MIGRATIONS } from './migrations.js';
import { PgReleaseStore } from './release-store.js';
import { pgRepositories } from './repositories.js';

/** Any number, the same for every registry: the key of the advisory lock migrations run under. */
const MIGRATION_LOCK = 0x70657269;
/** Transactions that lost a deadlock or a serialization check are run again this many times. */
const RETRIES = 4;
const RETRYABLE = new Set(['40001', '40P01']);

export interface PgStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Connections this instance keeps at most (default 10). */
  maxConnections?: number;
  /** Logs a pool error (a connection dropped while idle); it is not fatal, the pool reconnects. */
  onError?: (err: Error) => void;
}

/**
 * Store over PostgreSQL, for several registry instances sharing one database. Transactions run at READ
 * COMMITTED: what must not be broken by concurrent instances is enforced by unique indexes, conditional
 * updates and row locks (see repositories.ts), never by a lock inside one process. A dropped or refused
 * connection surfaces as StoreUnavailable, so requests fail with a retryable 503 while the database restarts.
 */
export class PgStore implements Store {
  /** API keys, webhooks and their delivery queue (access-store.ts), over this store's connections. */
  accessStore(org: string): AccessStore {
    return new PgAccessStore(this, org);
  }

  /** Release management of one organization, on this database (release-store.ts). */
  releaseStore(org: string): ReleaseStore {
    return new PgReleaseStore(this, org);
  }

  private readonly pool: pg.Pool;
  private readonly inTransaction = new AsyncLocalStorage<true>();
  readonly meta: Repositories['meta'];
  readonly artifacts: Repositories['artifacts'];
  readonly artifactVersions: Repositories['artifactVersions'];
  readonly binaries: Repositories['binaries'];
  readonly parts: Repositories['parts'];
  readonly signingKeys: Repositories['signingKeys'];
  readonly signatures: Repositories['signatures'];
  readonly contentGarbage: Repositories['contentGarbage'];
  readonly leases: Repositories['leases'];
  readonly multipartUploads: Repositories['multipartUploads'];

  private constructor(options: PgStoreOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      types: TYPES,
    });
    this.pool.on('error', (err) => options.onError?.(err));
    const repos = pgRepositories(sqlOn(this.pool));
    const guarded = <R extends object>(repo: R): R =>
      Object.fromEntries(
        Object.entries(repo).map(([name, fn]) => [
          name,
          (...args: unknown[]) => {
            this.assertOutsideTransaction(name);
            return (fn as (...a: unknown[]) => unknown)(...args);
          },
        ]),
      ) as R;
    this.meta = guarded(repos.meta);
    this.artifacts = guarded(repos.artifacts);
    this.artifactVersions = guarded(repos.artifactVersions);
    this.binaries = guarded(repos.binaries);
    this.parts = guarded(repos.parts);
    this.signingKeys = guarded(repos.signingKeys);
    this.signatures = guarded(repos.signatures);
    this.contentGarbage = guarded(repos.contentGarbage);
    this.leases = guarded(repos.leases);
    this.multipartUploads = guarded(repos.multipartUploads);
  }

  /** Connects and brings the schema up to date. */
  static async open(options: PgStoreOptions): Promise<PgStore> {
    const store = new PgStore(options);
    try {
      await store.migrate();
    } catch (err) {
      await store.pool.end();
      throw translate(err);
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)',
      );
      const { rows } = await client.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM schema_migrations',
      );
      const current = rows[0]?.v ?? 0;
      if (current > PG_MIGRATIONS.length) {
        throw new Error(
          `database schema version ${current} is newer than this peridio-registry supports (${PG_MIGRATIONS.length})`,
        );
      }
      for (let version = current; version < PG_MIGRATIONS.length; version++) {
        await client.query(PG_MIGRATIONS[version]!);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [
          version + 1,
        ]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private assertOutsideTransaction(what: string): void {
    // Not a deadlock here as in SQLite, but a statement outside the transaction would not see its changes
    // and could wait on its row locks: always a bug.
    if (this.inTransaction.getStore()) {
      throw new Error(`store.${what} called inside a transaction: use the transaction's repositories`);
    }
  }

  /** Statements on the pool, for the stores of later resources (release management) on this database. */
  get sql(): Sql {
    return sqlOn(this.pool);
  }

  /**
   * One transaction as raw statements, with the same retries and error mapping as `transaction`: for
   * stores of later resources that keep their own tables in this database.
   */
  sqlTransaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.run(fn);
  }

  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.run((sql) => fn(pgRepositories(sql)));
  }

  private async run<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    this.assertOutsideTransaction('transaction');
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw translate(err);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await this.inTransaction.run(true, () => fn(sqlOn(client)));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        const code = (err as { code?: string })?.code;
        if (attempt < RETRIES && code !== undefined && RETRYABLE.has(code)) continue;
        throw translate(err);
      } finally {
        // A connection that could not even roll back is dropped instead of going back to the pool.
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
