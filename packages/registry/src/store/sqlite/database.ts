import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { MIGRATIONS } from './migrations.js';
import { UniqueViolation } from '../store.js';

export type Row = Record<string, SQLInputValue>;
export type Params = SQLInputValue[];

/** A thin wrapper over node:sqlite: cached statements, typed rows, and nested-safe transactions. */
export class Database {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, ReturnType<DatabaseSync['prepare']>>();
  private depth = 0;

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    // WAL lets readers run beside the writer; FULL sync makes every commit durable before we answer.
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = FULL');
    this.db.exec('PRAGMA foreign_keys = ON');
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    const current = Number(
      (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version,
    );
    if (current > MIGRATIONS.length) {
      throw new Error(
        `database schema version ${current} is newer than this peridio-registry supports (${MIGRATIONS.length})`,
      );
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[version]!);
        this.db.exec(`PRAGMA user_version = ${version + 1}`);
      });
    }
  }

  private statement(sql: string) {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  get<T = Row>(sql: string, ...params: Params): T | undefined {
    return this.statement(sql).get(...params) as T | undefined;
  }

  all<T = Row>(sql: string, ...params: Params): T[] {
    return this.statement(sql).all(...params) as T[];
  }

  run(sql: string, ...params: Params): { changes: number; lastId: number } {
    try {
      const result = this.statement(sql).run(...params);
      return { changes: Number(result.changes), lastId: Number(result.lastInsertRowid) };
    } catch (err) {
      // "UNIQUE constraint failed: binaries.artifact_version_id, binaries.target" → the last column's name.
      const m = /UNIQUE constraint failed: (?:.*, )?\w+\.(\w+)$/.exec((err as Error).message);
      if (m) throw new UniqueViolation(m[1]!);
      throw err;
    }
  }

  /** For an async transaction; the caller serialises them (see SqliteStore). */
  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
  }

  commit(): void {
    this.db.exec('COMMIT');
  }

  rollback(): void {
    if (this.db.isTransaction) this.db.exec('ROLLBACK');
  }

  /** Runs fn atomically. Nested calls join the outer transaction. */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.db.exec('BEGIN IMMEDIATE');
    this.depth++;
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    } finally {
      this.depth--;
    }
  }

  close(): void {
    if (!this.db.isOpen) return;
    this.statements.clear();
    // Fold the WAL back into the main file so the data dir is one self-contained database after shutdown.
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
