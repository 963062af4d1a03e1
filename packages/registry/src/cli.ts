import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from '@peridio-actions/core';
import { ADMIN_USAGE, runAdminCli } from './admin-cli.js';
import { loadApiKey } from './secrets.js';
import { createRegistry } from './server.js';

const USAGE = `Usage: peridio-registry serve [--host 127.0.0.1] [--port 4000] [--data-dir .peridio-registry]
                              [--public-url URL] [--presign-ttl SECONDS] [--allow-insecure-webhooks]
${ADMIN_USAGE}

A self-hosted registry speaking the binary-management subset of Peridio's Admin API.
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
  if ((argv[0] === 'api-keys' || argv[0] === 'audit') && !argv.includes('--help') && !argv.includes('-h'))
    return runAdminCli(argv);
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
        'allow-insecure-webhooks': { type: 'boolean', default: false },
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
  const dataDir = resolve(values['data-dir']);
  const hashingDelayMs = Number(process.env.PERIDIO_REGISTRY_HASHING_DELAY_MS ?? 0) || 0;

  mkdirSync(dataDir, { recursive: true });
  const envKey = process.env.PERIDIO_REGISTRY_API_KEY?.trim();
  const stored = envKey ? undefined : loadApiKey(dataDir);
  const apiKey = envKey || stored!.apiKey;

  const logger = stderrLogger(process.env.PERIDIO_REGISTRY_DEBUG === '1');
  const registry = await createRegistry({
    dataDir,
    apiKey,
    publicUrl,
    presignTtlSeconds,
    hashingDelayMs,
    logger,
    allowInsecureWebhooks: values['allow-insecure-webhooks'],
    webhookDispatch: webhookDispatchFromEnv(),
  });
  let address;
  try {
    address = await registry.listen(port, values.host);
  } catch (err) {
    await registry.close();
    fail(`cannot listen on ${values.host}:${port}: ${(err as Error).message}`);
  }
  if (stored?.generated)
    process.stdout.write(`peridio-registry api key: ${apiKey} (stored in ${stored.path})\n`);
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

/** Shorter webhook retry timing for tests (PERIDIO_REGISTRY_WEBHOOK_BACKOFF_MS=base,max). */
function webhookDispatchFromEnv() {
  const raw = process.env.PERIDIO_REGISTRY_WEBHOOK_BACKOFF_MS;
  if (!raw) return undefined;
  const [base, max] = raw.split(',').map(Number);
  if (!base || !max) fail('PERIDIO_REGISTRY_WEBHOOK_BACKOFF_MS must be "<base-ms>,<max-ms>"');
  return { baseDelayMs: base, maxDelayMs: max, pollMs: Math.min(1000, base) };
}
