import { resolve } from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { Logger } from '@peridio-actions/core/base';
import { checkChoice } from './backends.js';
import { migrate } from './migrate.js';
import { serve } from './serve.js';

// `npx peridio-registry` is what works from a clone (it puts the Node 24 of `npm ci` on PATH first).
const USAGE = `Usage: npx peridio-registry serve [--host 127.0.0.1] [--port 4000] [--data-dir .peridio-registry]
                                  [--public-url URL] [--presign-ttl SECONDS] [--idle-timeout SECONDS]
                                  [--body-timeout SECONDS] [--max-connections N] [--signing-ca FILE]...
                                  [--database-url postgres://…] [--blob-store s3://bucket[/prefix]]
                                  [--s3-force-path-style] [--s3-abandoned-upload-age SECONDS]
       npx peridio-registry migrate --from <data-dir> --to postgres://… --to s3://bucket[/prefix]

A self-hosted registry speaking Peridio's Admin API. Records live in SQLite and content in the data dir
unless --database-url / --blob-store name PostgreSQL and an S3 bucket (then several instances may serve the
same registry). S3 endpoint, region and keys come from AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL), AWS_REGION,
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
  --signing-ca FILE  (repeatable) PEM CA certificates; a certificate signing key must be issued by one
  --idle-timeout     close a connection silent this long, also mid-upload (default 60)
  --body-timeout     a JSON request body must arrive within this (default 30)
  --max-connections  refuse connections beyond this many (default 256)
Files and directories it creates are readable by the owner only (0600/0700).
Env: PERIDIO_REGISTRY_API_KEY (else a key is generated, stored in <data-dir>/api-key or the database),
     PERIDIO_REGISTRY_DATABASE_URL, PERIDIO_REGISTRY_BLOB_STORE, PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE=1
     (the flags' defaults), PERIDIO_REGISTRY_PRESIGN_SECRET (else kept in the data dir or the database),
     PERIDIO_REGISTRY_LEASE_MS (background work lease, default 30000),
     PERIDIO_REGISTRY_HASHING_DELAY_MS (delay before the server-side hash check, for tests).`;

/** Log lines on stderr; stdout carries only the lines scripts parse (listening URL, generated key). */
function stderrLogger(debug = false): Logger {
  const line = (level: string, message: string) =>
    process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
  return {
    debug: (m) => debug && line('debug', m),
    info: (m) => line('info', m),
    warning: (m) => line('warn', m),
    error: (m) => line('error', m),
    group: (_name, fn) => fn(),
  };
}

/** A mistake on the command line: the usage helps. */
export function fail(message: string): never {
  process.stderr.write(`peridio-registry: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** The command line was right and something at run time went wrong: the usage would only bury the reason. */
export function runtimeFail(message: string): never {
  process.stderr.write(`peridio-registry: ${message}\n`);
  process.exit(1);
}

export function integer(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

const OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '4000' },
  'data-dir': { type: 'string', default: '.peridio-registry' },
  'public-url': { type: 'string' },
  'presign-ttl': { type: 'string', default: '3600' },
  'signing-ca': { type: 'string', multiple: true, default: [] as string[] },
  'idle-timeout': { type: 'string', default: '60' },
  'body-timeout': { type: 'string', default: '30' },
  'max-connections': { type: 'string', default: '256' },
  'database-url': { type: 'string' },
  'blob-store': { type: 'string' },
  's3-force-path-style': { type: 'boolean' },
  's3-abandoned-upload-age': { type: 'string', default: String(24 * 3600) },
  from: { type: 'string' },
  to: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsOptionsConfig;

function parse(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

export type CliValues = ReturnType<typeof parse>['values'];

export async function runCli(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals.length !== 1 || !['serve', 'migrate'].includes(positionals[0]!))
    fail('expected the command `serve` or `migrate`');
  const env = process.env;
  const logger = stderrLogger(env.PERIDIO_REGISTRY_DEBUG === '1');
  if (positionals[0] === 'migrate') await migrateCommand(values, env, logger);
  else await serve(values, env, logger);
}

async function migrateCommand(values: CliValues, env: NodeJS.ProcessEnv, logger: Logger): Promise<never> {
  if (!values.from) fail('migrate needs --from <data-dir>');
  const to = values.to ?? [];
  const choice = {
    databaseUrl: to.find((t) => /^postgres/.test(t)) ?? env.PERIDIO_REGISTRY_DATABASE_URL,
    blobStore: to.find((t) => t.startsWith('s3://')) ?? env.PERIDIO_REGISTRY_BLOB_STORE,
    s3ForcePathStyle: values['s3-force-path-style'] ?? env.PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE === '1',
  };
  const unknown = to.filter((t) => !/^postgres/.test(t) && !t.startsWith('s3://'));
  if (unknown.length > 0) fail(`--to takes a postgres:// or an s3:// URL, not ${unknown.join(', ')}`);
  if (!choice.databaseUrl || !choice.blobStore)
    fail(
      'migrate needs --to postgres://… and --to s3://bucket[/prefix] (or their PERIDIO_REGISTRY_* variables)',
    );
  const problem = checkChoice(choice);
  if (problem) fail(problem);
  const report = await migrate(resolve(values.from), choice, env, logger);
  process.stdout.write(`${report.summary}\n`);
  process.exit(report.ok ? 0 : 1);
}
