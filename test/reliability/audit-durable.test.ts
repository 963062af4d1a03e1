/**
 * A client that saw a 2xx has its audit event: the registry process is SIGKILLed the moment each response
 * arrives, and the event is read from the records afterwards (without the registry), on the embedded SQLite
 * store and on PostgreSQL.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrganization } from '../../packages/registry/src/secrets.js';
import { PgStore } from '../../packages/registry/src/store/pg/pg-store.js';
import { SqliteStore } from '../../packages/registry/src/store/sqlite/sqlite-store.js';
import type { Store } from '../../packages/registry/src/store/store.js';
import { startRegistry, type RegistryProcess } from '../helpers/registry-process.js';
import { describeWithServices, freshDatabase } from '../services/services.js';

const KEY = 'prk_audit-durable-key';
/** Only the records named here: nothing the test runner's environment may name (S3, another database). */
const LOCAL = { PERIDIO_REGISTRY_DATABASE_URL: '', PERIDIO_REGISTRY_BLOB_STORE: '' };

/** Each request, on a fresh start of the registry over the same records; killed as its answer arrives. */
const REQUESTS: [string, string, (n: number) => unknown, (body: any) => string][] = [
  ['POST', '/artifacts', (n) => ({ name: `killed-${n}` }), (b) => b.artifact.prn],
  ['POST', '/api_keys', (n) => ({ name: `killed-${n}`, role: 'reader' }), (b) => b.api_key.prn],
  [
    'POST',
    '/webhooks',
    (n) => ({ url: `https://hooks.example.com/${n}`, enabled_events: ['artifact.created'] }),
    (b) => b.webhook.prn,
  ],
];

function durableSuite(
  name: string,
  start: () => Promise<RegistryProcess>,
  open: (instance: RegistryProcess) => Promise<Store>,
) {
  it(`${name}: every event of a 2xx is there after a SIGKILL right at the response`, async () => {
    for (const [i, [method, path, body, prnOf]] of REQUESTS.entries()) {
      const registry = await start();
      const res = await fetch(registry.baseUrl + path, {
        method,
        headers: { authorization: `Token ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body(i)),
      });
      // Killed before the body is even read: nothing after the response can have run.
      await registry.kill('SIGKILL');
      expect(res.status, `${method} ${path}`).toBe(201);
      const resource = prnOf(await res.json());
      const store = await open(registry);
      try {
        const events = store.releaseStore(await loadOrganization(store));
        const page = await events.listEvents(new URLSearchParams({ resource_prn: resource }));
        expect(
          page.items.map((e) => `${e.type}.${e.subtype}`),
          `${method} ${path}`,
        ).toEqual([`${path.slice(1, -1)}.created`]);
      } finally {
        await store.close();
      }
    }
  }, 60_000);
}

describe('audit events are durable before the response', () => {
  let dataDir: string | undefined;
  durableSuite(
    'SQLite',
    async () => {
      const r = await startRegistry({ dataDir, apiKey: KEY, env: LOCAL });
      dataDir = r.dataDir;
      return r;
    },
    async (r) => new SqliteStore(join(r.dataDir, 'registry.db')),
  );
});

describeWithServices('audit events are durable before the response (PostgreSQL)', (env) => {
  let db: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  afterAll(async () => db?.drop());
  durableSuite(
    'PostgreSQL',
    async () => {
      db ??= await freshDatabase(env.PERIDIO_REGISTRY_DATABASE_URL!);
      return startRegistry({ apiKey: KEY, env: { ...LOCAL, PERIDIO_REGISTRY_DATABASE_URL: db.url } });
    },
    async () => PgStore.open({ url: db!.url }),
  );
});
