import { AsyncLocalStorage } from 'node:async_hooks';
import type { Repositories, Store } from '../store.js';
import type { AccessStore } from '../access-store.js';
import { GroupCommit } from '../../group-commit.js';
import type { ReleaseStore } from '../release-store.js';
import { SqliteAccessStore } from './access-store.js';
import { Database, type Row } from './database.js';
import { SqliteReleaseStore, type PhaseClaim } from './release-store.js';
import { sqliteRepositories } from './repositories.js';

type AnyFn = (...args: unknown[]) => Promise<unknown>;

export interface StoredTable {
  name: string;
  columns: string[];
  rows: number;
}

/** A table's name as it may be written into SQL (the names come from the schema, this only makes sure). */
function tableName(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected table name ${JSON.stringify(name)}`);
  return name;
}

/**
 * Store over one node:sqlite database file. One connection serves everything, so transactions are
 * serialised by a lock: while one is open, every other call (inside or outside a transaction) waits, and
 * no statement of another request can land inside it.
 */
export class SqliteStore implements Store {
  private readonly db: Database;
  private tail: Promise<unknown> = Promise.resolve();
  /** Set while a transaction's callback runs, to catch a call that would wait for that transaction. */
  private readonly inTransaction = new AsyncLocalStorage<true>();
  private readonly inner: Repositories;
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

  constructor(path: string) {
    this.db = new Database(path);
    this.inner = sqliteRepositories(this.db);
    const locked = <R extends object>(repo: R): R =>
      Object.fromEntries(
        Object.entries(repo).map(([name, fn]) => [
          name,
          (...args: unknown[]) => {
            this.assertOutsideTransaction(name);
            return this.exclusive(() => (fn as AnyFn)(...args));
          },
        ]),
      ) as R;
    this.meta = locked(this.inner.meta);
    this.artifacts = locked(this.inner.artifacts);
    this.artifactVersions = locked(this.inner.artifactVersions);
    this.binaries = locked(this.inner.binaries);
    this.parts = locked(this.inner.parts);
    this.signingKeys = locked(this.inner.signingKeys);
    this.signatures = locked(this.inner.signatures);
    this.contentGarbage = locked(this.inner.contentGarbage);
    this.leases = locked(this.inner.leases);
    this.multipartUploads = locked(this.inner.multipartUploads);
  }

  private assertOutsideTransaction(what: string): void {
    if (this.inTransaction.getStore()) {
      // It would wait for the transaction it is called from: a deadlock. A bug, so fail loudly.
      throw new Error(`store.${what} called inside a transaction: use the transaction's repositories`);
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  releaseStore(org: string): ReleaseStore {
    const inner = new SqliteReleaseStore(this.db, org);
    const store = this.lockedClass('releaseStore', inner) as unknown as ReleaseStore;
    // The update checks' claims share commits (each still decided exactly, in order, in one transaction).
    const claims = new GroupCommit((batch: PhaseClaim[]) =>
      this.exclusive(() => inner.claimPhaseSlots(batch)),
    );
    return {
      ...store,
      claimPhaseSlot: (release, deviceId, limit, makeEvent) => {
        this.assertOutsideTransaction('releaseStore().claimPhaseSlot');
        return claims.submit({ release, deviceId, limit, makeEvent });
      },
    };
  }

  accessStore(org: string): AccessStore {
    return this.lockedClass('accessStore', new SqliteAccessStore(this.db, org));
  }

  /** A class instance's methods (they live on the prototype), each bound and run under the lock. */
  private lockedClass<T extends object>(what: string, inner: T): T {
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(inner)).filter(
      (n) => n !== 'constructor',
    );
    return Object.fromEntries(
      methods.map((name) => [
        name,
        (...args: unknown[]) => {
          this.assertOutsideTransaction(`${what}().${name}`);
          return this.exclusive(() => (inner as unknown as Record<string, AnyFn>)[name]!.apply(inner, args));
        },
      ]),
    ) as unknown as T;
  }

  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    this.assertOutsideTransaction('transaction');
    return this.exclusive(async () => {
      this.db.begin();
      try {
        const result = await this.inTransaction.run(true, () => fn(this.inner));
        this.db.commit();
        return result;
      } catch (err) {
        this.db.rollback();
        throw err;
      }
    });
  }

  /**
   * Every table of the database with its columns and row count: what `migrate` must account for
   * (../copy-records.ts), so a table added by a later schema is never left behind unnoticed.
   */
  describeTables(): Promise<StoredTable[]> {
    this.assertOutsideTransaction('describeTables');
    return this.exclusive(async () =>
      this.db
        .all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .map(({ name }) => ({
          name,
          columns: this.db
            .all<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, name)
            .map((c) => c.name),
          rows: this.db.get<{ n: number }>(`SELECT count(*) AS n FROM "${tableName(name)}"`)!.n,
        })),
    );
  }

  /** Up to `limit` rows of a table as stored, in rowid order after `afterRowid` (a page of `migrate`). */
  tablePage(table: string, afterRowid: number, limit: number): Promise<{ rowid: number; row: Row }[]> {
    this.assertOutsideTransaction('tablePage');
    return this.exclusive(async () =>
      this.db
        .all<Row & { __rowid: number }>(
          `SELECT rowid AS __rowid, * FROM "${tableName(table)}" WHERE rowid > ? ORDER BY rowid LIMIT ?`,
          afterRowid,
          limit,
        )
        .map(({ __rowid, ...row }) => ({ rowid: Number(__rowid), row })),
    );
  }

  async close(): Promise<void> {
    await this.exclusive(async () => this.db.close());
  }
}
