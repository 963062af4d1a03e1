import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from '@peridio-actions/core';
import { checkChoice, openBackends, sharedSecrets } from './backends.js';
import { migrate } from './migrate.js';
import { loadApiKey } from './secrets.js';
import { createRegistry } from './server.js';

const USAGE = `Usage: peridio-registry serve [--host 127.0.0.1] [--port 4000] [--data-dir .peridio-registry]
                              [--public-url URL] [--presign-ttl SECONDS]
                              [--database-url postgres://…] [--blob-store s3://bucket[/prefix]]
                              [--s3-force-path-style] [--s3-abandoned-upload-age SECONDS]
       peridio-registry migrate --from <data-dir> --to postgres://… --to s3://bucket[/prefix]

A self-hosted registry speaking the binary-management subset of Peridio's Admin API. Records live in SQLite
and content in the data dir unless --database-url / --blob-store name PostgreSQL and an S3 bucket (then
several instances may serve the same registry). S3 endpoint, region and keys come from AWS_ENDPOINT_URL_S3
(or AWS_ENDPOINT_URL), AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
Env: PERIDIO_REGISTRY_API_KEY (else a key is generated, stored in <data-dir>/api-key or the database),
     PERIDIO_REGISTRY_DATABASE_URL, PERIDIO_REGISTRY_BLOB_STORE, PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE=1
     (the flags' defaults), PERIDIO_REGISTRY_PRESIGN_SECRET (else kept in the data dir or the database),
     PERIDIO_REGISTRY_LEASE_MS (background work lease, default 30000),
     PERIDIO_REGISTRY_HASHING_DELAY_MS (delay before the server-side hash check, for tests).`;

/** Log lines on stderr; stdout carries only the lines scripts parse (listening URL, generated key). */
export function stderrLogger(debug = false): Logger {
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

function fail(message: string): never {
  process.stderr.write(`peridio-registry: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function integer(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

export async function runCli(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '4000' },
        'data-dir': { type: 'string', default: '.peridio-registry' },
        'public-url': { type: 'string' },
        'presign-ttl': { type: 'string', default: '3600' },
        'database-url': { type: 'string' },
        'blob-store': { type: 'string' },
        's3-force-path-style': { type: 'boolean' },
        's3-abandoned-upload-age': { type: 'string', default: String(24 * 3600) },
        from: { type: 'string' },
        to: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
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
  if (positionals[0] === 'migrate') {
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
  const port = integer(values.port, 'port', 0, 65535);
  const presignTtlSeconds = integer(values['presign-ttl'], 'presign-ttl', 1, 7 * 24 * 3600);
  const publicUrl = values['public-url'];
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl))
    fail('--public-url must be an http(s) URL');
  const dataDir = resolve(values['data-dir']);
  const hashingDelayMs = Number(env.PERIDIO_REGISTRY_HASHING_DELAY_MS ?? 0) || 0;
  const leaseMs = Number(env.PERIDIO_REGISTRY_LEASE_MS ?? 0) || 30_000;
  const abandonedAge = integer(
    values['s3-abandoned-upload-age'],
    's3-abandoned-upload-age',
    1,
    365 * 24 * 3600,
  );
  const choice = {
    databaseUrl: values['database-url'] ?? (env.PERIDIO_REGISTRY_DATABASE_URL || undefined),
    blobStore: values['blob-store'] ?? (env.PERIDIO_REGISTRY_BLOB_STORE || undefined),
    s3ForcePathStyle: values['s3-force-path-style'] ?? env.PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE === '1',
  };
  const problem = checkChoice(choice);
  if (problem) fail(problem);

  mkdirSync(dataDir, { recursive: true });
  let backends;
  try {
    backends = await openBackends(choice, dataDir, env, (err) =>
      logger.warning(`database connection dropped: ${err.message}`),
    );
  } catch (err) {
    fail(`cannot open the registry's backends: ${(err as Error).message}`);
  }
  // One instance: secrets in the data dir as always. Several: in the database they share.
  let apiKey: string;
  let keyNote: string | undefined;
  let presignSecret: Buffer | undefined;
  if (backends.shared) {
    const secrets = await sharedSecrets(backends.store, env);
    apiKey = secrets.apiKey;
    presignSecret = secrets.presignSecret;
    if (secrets.generated) keyNote = `peridio-registry api key: ${apiKey} (stored in the database)`;
  } else {
    const envKey = env.PERIDIO_REGISTRY_API_KEY?.trim();
    const stored = envKey ? undefined : loadApiKey(dataDir);
    apiKey = envKey || stored!.apiKey;
    if (stored?.generated) keyNote = `peridio-registry api key: ${apiKey} (stored in ${stored.path})`;
  }

  const registry = await createRegistry({
    dataDir,
    apiKey,
    publicUrl,
    presignTtlSeconds,
    hashingDelayMs,
    logger,
    store: backends.store,
    blobs: backends.blobs,
    shared: backends.shared,
    leaseMs,
    presignSecret,
    abandonedUploadAgeMs: abandonedAge * 1000,
  });
  let address;
  try {
    address = await registry.listen(port, values.host);
  } catch (err) {
    await registry.close();
    fail(`cannot listen on ${values.host}:${port}: ${(err as Error).message}`);
  }
  if (keyNote) process.stdout.write(`${keyNote}\n`);
  process.stdout.write(`peridio-registry records: ${backends.records}\n`);
  process.stdout.write(`peridio-registry content: ${backends.content}\n`);
  if (backends.shared && !backends.blobs.direct)
    logger.warning(
      "content is in this instance's data dir: run one instance only, or give --blob-store s3://…",
    );
  process.stdout.write(`peridio-registry listening on ${address.url}\n`);
  logger.info(`data dir ${dataDir}; organization prn:1:${registry.context.org}`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warning(`${signal} again: exiting without waiting for in-flight requests`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: finishing in-flight requests, then closing the database`);
    registry.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
