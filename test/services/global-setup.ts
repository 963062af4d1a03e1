import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { SERVICE_KEYS, type ServicesInfo } from './services.js';

const root = new URL('../..', import.meta.url).pathname;

/**
 * Starts PostgreSQL and the S3 server once for the whole run (scripts/services.sh), unless the environment
 * names them already (PERIDIO_REGISTRY_DATABASE_URL and PERIDIO_REGISTRY_BLOB_STORE, e.g. from
 * `npm run services`). On a dev machine without them the suites that need them skip with one line; in CI
 * (CI=true) a failure to start fails the run.
 */
export default function setup(project: TestProject): (() => void) | undefined {
  const given = Object.fromEntries(
    SERVICE_KEYS.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
  );
  if (given.PERIDIO_REGISTRY_DATABASE_URL && given.PERIDIO_REGISTRY_BLOB_STORE) {
    project.provide('services', { env: given } satisfies ServicesInfo);
    return undefined;
  }
  if (process.env.PERIDIO_TEST_SERVICES === '0') {
    project.provide('services', { unavailable: 'PERIDIO_TEST_SERVICES=0' } satisfies ServicesInfo);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'peridio-test-services-'));
  chmodSync(dir, 0o755); // the database server runs as the `postgres` user when we are root
  const env = { ...process.env, PERIDIO_SERVICES_DIR: join(dir, 's') };
  const script = join(root, 'scripts/services.sh');
  let out: string;
  try {
    out = execFileSync('bash', [script, 'up'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    try {
      execFileSync('bash', [script, 'down'], { env, stdio: 'ignore' });
    } catch {
      /* what did start is stopped as far as it can be */
    }
    rmSync(dir, { recursive: true, force: true });
    const reason = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').at(-1);
    if (process.env.CI === 'true') throw new Error(`CI: PostgreSQL + S3 services did not start: ${reason}`);
    project.provide('services', {
      unavailable: reason ?? 'scripts/services.sh up failed',
    } satisfies ServicesInfo);
    return undefined;
  }
  const started = Object.fromEntries(
    out
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line))
      .flatMap((m) => (m ? [[m[1]!, m[2]!]] : [])),
  );
  project.provide('services', { env: started } satisfies ServicesInfo);
  return () => {
    execFileSync('bash', [script, 'down'], { env, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
}
