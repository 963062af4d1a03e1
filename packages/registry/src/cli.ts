import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCertificates, type Logger } from '@peridio-actions/core/base';
import { loadApiKey } from './secrets.js';
import { createRegistry } from './server.js';

const USAGE = `Usage: peridio-registry serve [--host 127.0.0.1] [--port 4000] [--data-dir .peridio-registry]
                              [--public-url URL] [--presign-ttl SECONDS] [--idle-timeout SECONDS]
                              [--body-timeout SECONDS] [--max-connections N] [--signing-ca FILE]...

A self-hosted registry speaking the binary-management subset of Peridio's Admin API.
  --signing-ca FILE  (repeatable) PEM CA certificates; a certificate signing key must be issued by one
  --idle-timeout     close a connection silent this long, also mid-upload (default 60)
  --body-timeout     a JSON request body must arrive within this (default 30)
  --max-connections  refuse connections beyond this many (default 256)
Files and directories it creates are readable by the owner only (0600/0700).
Env: PERIDIO_REGISTRY_API_KEY (else a key is generated and stored in <data-dir>/api-key),
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
        'signing-ca': { type: 'string', multiple: true, default: [] },
        'idle-timeout': { type: 'string', default: '60' },
        'body-timeout': { type: 'string', default: '30' },
        'max-connections': { type: 'string', default: '256' },
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
  if (positionals[0] !== 'serve' || positionals.length > 1) fail('expected the command `serve`');
  const port = integer(values.port, 'port', 0, 65535);
  const presignTtlSeconds = integer(values['presign-ttl'], 'presign-ttl', 1, 7 * 24 * 3600);
  const publicUrl = values['public-url'];
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl))
    fail('--public-url must be an http(s) URL');
  const idleTimeoutMs = integer(values['idle-timeout'], 'idle-timeout', 1, 24 * 3600) * 1000;
  const bodyTimeoutMs = integer(values['body-timeout'], 'body-timeout', 1, 24 * 3600) * 1000;
  const maxConnections = integer(values['max-connections'], 'max-connections', 1, 1_000_000);
  const dataDir = resolve(values['data-dir']);
  // The database, content and secrets are created owner-only; SQLite and the content store obey the umask.
  process.umask(0o077);
  const hashingDelayMs = Number(process.env.PERIDIO_REGISTRY_HASHING_DELAY_MS ?? 0) || 0;

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const envKey = process.env.PERIDIO_REGISTRY_API_KEY?.trim();
  const stored = envKey ? undefined : loadApiKey(dataDir);
  const apiKey = envKey || stored!.apiKey;

  const logger = stderrLogger(process.env.PERIDIO_REGISTRY_DEBUG === '1');
  const signingCas = values['signing-ca'].flatMap((file) => {
    let certs;
    try {
      certs = parseCertificates(readFileSync(file, 'utf8'));
    } catch (err) {
      fail(`--signing-ca ${file}: ${(err as Error).message}`);
    }
    if (certs.length === 0) fail(`--signing-ca ${file} holds no PEM certificate`);
    return certs;
  });
  let registry;
  try {
    registry = await createRegistry({
      dataDir,
      apiKey,
      publicUrl,
      presignTtlSeconds,
      hashingDelayMs,
      signingCas,
      idleTimeoutMs,
      bodyTimeoutMs,
      maxConnections,
      logger,
    });
  } catch (err) {
    process.stderr.write(`peridio-registry: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let address;
  try {
    address = await registry.listen(port, values.host);
  } catch (err) {
    await registry.close();
    fail(`cannot listen on ${values.host}:${port}: ${(err as Error).message}`);
  }
  // Handlers first: whoever reads the listening line may signal at once.
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
  if (stored?.generated)
    process.stdout.write(`peridio-registry api key: ${apiKey} (stored in ${stored.path})\n`);
  process.stdout.write(`peridio-registry listening on ${address.url}\n`);
  logger.info(`data dir ${dataDir}; organization prn:1:${registry.context.org}`);
}
