/**
 * The access tests run on both stores: the embedded SQLite store, and PostgreSQL from the global setup's
 * services (a fresh database per registry; skipped with one line when the services are not there, a failure
 * in CI). A PostgreSQL registry runs as one of a fleet would (`shared`), so deliveries go through leases.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { PgStore } from '../../src/store/pg/pg-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import type { RegistryOptions } from '../../src/server.js';
import { describeWithServices, freshDatabase } from '../../../../test/services/services.js';
import { startTestRegistry, type TestRegistry } from '../support.js';

type StartOptions = Partial<RegistryOptions> & {
  dataDir?: string;
  /** Start on the records of this (closed) registry: a restart. */
  restartOf?: TestRegistry;
};

export interface Backend {
  name: 'SQLite' | 'PostgreSQL';
  start(options?: StartOptions): Promise<TestRegistry>;
  /** Another handle on a registry's records, as another process would open them. */
  openStore(t: TestRegistry): Promise<Store>;
  /** Runs raw SQL on a registry's database (to break it on purpose). */
  exec(t: TestRegistry, sqlText: string): Promise<void>;
  /** Everything stored, as text: what must never contain a secret. */
  dump(t: TestRegistry): Promise<string>;
}

const sqliteFile = (t: TestRegistry) => join(t.dataDir, 'registry.db');
const readIfThere = (path: string) => {
  try {
    return readFileSync(path).toString('latin1');
  } catch {
    return '';
  }
};

const sqlite: Backend = {
  name: 'SQLite',
  start: ({ restartOf, ...options } = {}) =>
    startTestRegistry({ ...options, dataDir: options.dataDir ?? restartOf?.dataDir }),
  openStore: async (t) => new SqliteStore(sqliteFile(t)),
  async exec(t, sqlText) {
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(sqliteFile(t));
    try {
      db.exec(sqlText);
    } finally {
      db.close();
    }
  },
  dump: async (t) => readIfThere(sqliteFile(t)) + readIfThere(`${sqliteFile(t)}-wal`),
};

function postgres(serverUrl: string): Backend {
  const urls = new WeakMap<TestRegistry, string>();
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(drops.map((d) => d()));
  });
  const query = async <T extends pg.QueryResultRow>(t: TestRegistry, text: string) => {
    const client = new pg.Client({ connectionString: urls.get(t)! });
    await client.connect();
    try {
      return (await client.query<T>(text)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    name: 'PostgreSQL',
    async start({ restartOf, ...options } = {}) {
      let url = restartOf && urls.get(restartOf);
      if (!url) {
        const db = await freshDatabase(serverUrl);
        drops.push(db.drop);
        url = db.url;
      }
      const store = await PgStore.open({ url });
      const t = await startTestRegistry({
        ...options,
        dataDir: options.dataDir ?? restartOf?.dataDir,
        store,
        shared: true,
      });
      urls.set(t, url);
      return t;
    },
    openStore: (t) => PgStore.open({ url: urls.get(t)! }),
    async exec(t, sqlText) {
      await query(t, sqlText);
    },
    async dump(t) {
      const tables = await query<{ name: string }>(
        t,
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      const out: string[] = [];
      for (const { name } of tables) {
        const rows = await query<{ row: string }>(t, `SELECT t::text AS row FROM "${name}" t`);
        out.push(...rows.map((r) => r.row));
      }
      return out.join('\n');
    },
  };
}

/** `describe` once per store: `fn` gets the backend to start registries on. */
export function describeOnBackends(name: string, fn: (backend: Backend) => void): void {
  describe(`${name} (SQLite)`, () => fn(sqlite));
  describeWithServices(`${name} (PostgreSQL)`, (env) => {
    fn(postgres(env.PERIDIO_REGISTRY_DATABASE_URL ?? ''));
  });
}
