import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';

/** What the global setup (global-setup.ts) hands the test files. */
export type ServicesInfo = { env: Record<string, string> } | { unavailable: string };

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServicesInfo;
  }
}

export const SERVICE_KEYS = [
  'PERIDIO_REGISTRY_DATABASE_URL',
  'PERIDIO_REGISTRY_BLOB_STORE',
  'PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
] as const;

function services(): ServicesInfo {
  return inject('services') ?? { unavailable: 'no global setup ran' };
}

let told = false;

/** `describe` for suites that need PostgreSQL + S3: skipped with one clear line when they are not there. */
export function describeWithServices(name: string, fn: (env: Record<string, string>) => void): void {
  const info = services();
  if ('unavailable' in info) {
    if (!told) process.stderr.write(`skipping PostgreSQL + S3 suites: ${info.unavailable}\n`);
    told = true;
    describe.skip(name, () => fn({}));
    return;
  }
  describe(name, () => fn(info.env));
}

/** A fresh database on the services' server, so suites never see each other's records. */
export async function freshDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `t_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A fresh bucket prefix of the services' bucket: `s3://bucket/<random>`. */
export function freshBlobStoreUrl(env: Record<string, string>): string {
  return `${env.PERIDIO_REGISTRY_BLOB_STORE!.replace(/\/+$/, '')}/${randomUUID()}`;
}
