import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { apiKeyInput, apiKeyJson } from './access/api-key-routes.js';
import { createApiKey, parseExpiry } from './access/api-keys.js';
import { eventJson } from './releases/json.js';
import { pathId } from './releases/prn.js';
import { HttpError } from './http.js';
import { loadOrganization } from './secrets.js';
import { checkChoice, redactDatabaseUrl } from './backends.js';
import type { AccessStore } from './store/access-store.js';
import { PgStore } from './store/pg/pg-store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export const ADMIN_USAGE = `       peridio-registry api-keys create --name NAME --role ROLE [--expires 90d] [RECORDS]
       peridio-registry api-keys list [RECORDS]
       peridio-registry api-keys revoke PRN [RECORDS]
       peridio-registry audit export [--since 7d|2026-01-01T00:00:00Z] [--format jsonl|csv] [RECORDS]

RECORDS: --data-dir DIR (the embedded SQLite store, default .peridio-registry) or
         --database-url postgres://… (PERIDIO_REGISTRY_DATABASE_URL; the database a fleet shares).
Roles: admin, publisher, signer, releaser, reader, device-check (docs/access-audit-webhooks.md).
The commands work on the registry's records directly, also while it runs; a revoked key is refused at once
(by every instance of a fleet).`;

function fail(message: string): never {
  process.stderr.write(`peridio-registry: ${message}\n${ADMIN_USAGE}\n`);
  process.exit(2);
}

/** The records the commands work on: the database a fleet shares when named, else the data dir's. */
async function openStore(dataDir: string, databaseUrl: string | undefined): Promise<Store> {
  if (databaseUrl === undefined) return new SqliteStore(join(resolve(dataDir), 'registry.db'));
  const problem = checkChoice({ databaseUrl });
  if (problem) fail(problem);
  try {
    return await PgStore.open({ url: databaseUrl });
  } catch (err) {
    process.stderr.write(
      `peridio-registry: cannot open ${redactDatabaseUrl(databaseUrl)}: ${(err as Error).message}\n`,
    );
    process.exit(1);
  }
}

function say(err: unknown): never {
  if (err instanceof HttpError) {
    const errors = (err.body as { errors?: Record<string, unknown> }).errors ?? {};
    const text = Object.entries(errors)
      .map(([field, m]) =>
        field === 'detail' ? String(m) : `--${field} ${Array.isArray(m) ? m.join(', ') : String(m)}`,
      )
      .join('; ');
    fail(text);
  }
  throw err;
}

export async function runAdminCli(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string', default: '.peridio-registry' },
        'database-url': { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        expires: { type: 'string' },
        since: { type: 'string' },
        format: { type: 'string', default: 'jsonl' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [group, command, ...rest] = positionals;
  const store = await openStore(
    values['data-dir'],
    values['database-url'] ?? (process.env.PERIDIO_REGISTRY_DATABASE_URL || undefined),
  );
  try {
    const org = await loadOrganization(store);
    const access = store.accessStore(org);
    const command_ = `${group} ${command ?? ''}`.trim();
    if (command_ === 'api-keys create') {
      if (rest.length) fail(`unexpected ${rest.join(' ')}`);
      let input;
      try {
        input = apiKeyInput({ name: values.name, role: values.role, expires: values.expires });
      } catch (err) {
        say(err);
      }
      const { record, key } = await createApiKey(access, input);
      await recordCli(access, 'created', apiKeyJson(org, record));
      process.stderr.write(
        `created API key '${record.name}' with role ${record.role}; it is shown only once:\n`,
      );
      process.stdout.write(`${JSON.stringify({ ...apiKeyJson(org, record), key })}\n`);
    } else if (command_ === 'api-keys list') {
      // Newest first, page by page.
      let after = Number.MAX_SAFE_INTEGER;
      for (;;) {
        const page = await access.pageApiKeys({ org, limit: 100, order: 'desc', after, filters: [] });
        for (const k of page.rows) process.stdout.write(`${JSON.stringify(apiKeyJson(org, k))}\n`);
        if (!page.more) break;
        after = page.rows[page.rows.length - 1]!.seq;
      }
    } else if (command_ === 'api-keys revoke') {
      if (rest.length !== 1) fail('api-keys revoke takes the PRN of one key');
      let id: string;
      try {
        id = pathId(org, rest[0]!, 'api_key');
      } catch {
        fail(`'${rest[0]}' is not an API key PRN of this registry (see api-keys list)`);
      }
      const revoked = await access.revokeApiKey(id, new Date().toISOString());
      if (!revoked) fail(`no API key ${rest[0]}`);
      await recordCli(access, 'revoked', apiKeyJson(org, revoked));
      process.stdout.write(`${JSON.stringify(apiKeyJson(org, revoked))}\n`);
    } else if (command_ === 'audit export') {
      await exportAudit(store, org, values.since, values.format);
    } else {
      fail(`unknown command '${command_}'`);
    }
  } finally {
    await store.close();
  }
}

/** The CLI's changes are audited too; its actor is whoever runs it on the registry's host. */
async function recordCli(access: AccessStore, subtype: string, after: { prn: string }) {
  await access.appendEvents([
    {
      type: 'api_key',
      subtype,
      resource_prn: after.prn,
      actor_prn: null,
      data: {
        ...(subtype === 'created' ? { api_key_prn: after.prn } : {}),
        action: `api_key.${subtype}`,
        actor: { api_key_prn: null, name: 'peridio-registry CLI', role: 'admin' },
        remote_address: null,
        request: { method: 'CLI', path: `api-keys ${subtype === 'created' ? 'create' : 'revoke'}` },
        before: null,
        after,
      },
    },
  ]);
}

const CSV_COLUMNS = [
  'prn',
  'inserted_at',
  'type',
  'subtype',
  'resource_prn',
  'actor_prn',
  'actor_name',
  'remote_address',
  'data',
];
const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

async function exportAudit(store: Store, org: string, since: string | undefined, format: string) {
  if (format !== 'jsonl' && format !== 'csv') fail('--format must be jsonl or csv');
  const query = new URLSearchParams({ limit: '100', order: 'asc' });
  if (since !== undefined) {
    const ago = /^(\d{1,6})([mhdw])$/.exec(since);
    let at: string;
    if (ago) {
      const future = parseExpiry(since, 0);
      if ('error' in future) fail(`--since ${future.error}`);
      at = new Date(Date.now() - Date.parse(future.at)).toISOString();
    } else {
      const ms = Date.parse(since);
      if (!/^\d{4}-\d{2}-\d{2}/.test(since) || !Number.isFinite(ms))
        fail("--since must be a duration like '7d' or an ISO date-time");
      at = new Date(ms).toISOString();
    }
    query.set('inserted_at_gte', at);
  }
  if (format === 'csv') process.stdout.write(`${CSV_COLUMNS.join(',')}\n`);
  const events = store.releaseStore(org);
  for (;;) {
    const page = await events.listEvents(query);
    for (const record of page.items) {
      const e = eventJson(org, record);
      if (format === 'jsonl') {
        process.stdout.write(`${JSON.stringify(e)}\n`);
        continue;
      }
      const data = (record.data ?? {}) as { actor?: { name?: string }; remote_address?: string };
      const row = [
        e.prn,
        e.inserted_at,
        e.type,
        e.event_subtype,
        e.resource_prn,
        e.actor_prn,
        data.actor?.name,
        data.remote_address,
        record.data,
      ];
      process.stdout.write(`${row.map(csvCell).join(',')}\n`);
    }
    if (!page.next_page) break;
    query.set('page', page.next_page);
  }
}
