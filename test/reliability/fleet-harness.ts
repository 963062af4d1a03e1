/**
 * Several registry processes on one PostgreSQL database and one S3 bucket prefix, as a fleet runs them. The
 * database and prefix are fresh per suite; S3 is reached through a fault proxy (its bytes can be counted,
 * and it can be made unreachable). Instances lease background work for `LEASE_MS`.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry, type RegistryProcess } from '../helpers/registry-process.js';
import { registerNewKey, type Scene, type TestKey } from '../e2e/scene.js';
import { freshBlobStoreUrl, freshDatabase } from '../services/services.js';

export const LEASE_MS = 2000;
export const API_KEY = 'prk_fleet-test-key';

export type Api = Scene['api'];

export interface Fleet {
  env: Record<string, string>;
  s3: FaultProxy;
  dir: string;
  key: TestKey;
  /** The instance the fleet started with. */
  first: RegistryProcess;
  start(extraEnv?: Record<string, string>): Promise<RegistryProcess>;
  api(instance: RegistryProcess): Api;
  close(): Promise<void>;
}

export function apiOf(baseUrl: string, apiKey = API_KEY): Api {
  return async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Token ${apiKey}`,
        'x-api-version': '2',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  };
}

export async function startFleet(
  services: Record<string, string>,
  databaseUrl?: string,
  /** Flags and environment every instance starts with. */
  instances: { args?: string[]; env?: Record<string, string> } = {},
): Promise<Fleet> {
  const db = await freshDatabase(databaseUrl ?? services.PERIDIO_REGISTRY_DATABASE_URL!);
  const s3 = await startFaultProxy({ target: services.AWS_ENDPOINT_URL_S3! });
  const env: Record<string, string> = {
    ...services,
    PERIDIO_REGISTRY_DATABASE_URL: db.url,
    PERIDIO_REGISTRY_BLOB_STORE: freshBlobStoreUrl(services),
    AWS_ENDPOINT_URL_S3: s3.url,
    PERIDIO_REGISTRY_LEASE_MS: String(LEASE_MS),
    PERIDIO_REGISTRY_API_KEY: API_KEY,
    ...instances.env,
  };
  const started: RegistryProcess[] = [];
  const start = async (extraEnv: Record<string, string> = {}) => {
    const instance = await startRegistry({ env: { ...env, ...extraEnv }, args: instances.args });
    started.push(instance);
    return instance;
  };
  const first = await start();
  const key = await registerNewKey(apiOf(first.baseUrl), 'fleet key');
  return {
    env,
    s3,
    dir: mkdtempSync(join(tmpdir(), 'peridio-fleet-')),
    key,
    first,
    start,
    api: (instance) => apiOf(instance.baseUrl),
    async close() {
      await Promise.all(started.map((i) => i.stop()));
      await s3.close();
      await db.drop();
    },
  };
}

export async function downloadSha256Via(api: Api, binaryPrn: string): Promise<string> {
  const { body } = await api<{ download_url: string }>('GET', `/binaries/${binaryPrn}/download_url`);
  const response = await fetch(body.download_url);
  if (!response.ok || !response.body) throw new Error(`download failed: ${response.status}`);
  const hash = createHash('sha256');
  for await (const chunk of response.body) hash.update(chunk);
  return hash.digest('hex');
}

/** Polls until the binary is in `state` or the time is up; returns the last record seen. */
export async function waitForState(
  api: Api,
  prn: string,
  state: string,
  ms: number,
): Promise<{ state: string; hash_error?: string }> {
  const until = Date.now() + ms;
  for (;;) {
    const { body } = await api<{ binary: { state: string; hash_error?: string } }>('GET', `/binaries/${prn}`);
    if (body.binary.state === state || Date.now() > until) return body.binary;
    await new Promise((r) => setTimeout(r, 200));
  }
}
