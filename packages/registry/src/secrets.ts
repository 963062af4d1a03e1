import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from './store/store.js';

/** A secret kept in a 0600 file of the data dir, created on first use. */
function fileSecret(dataDir: string, name: string, make: () => string): { value: string; created: boolean } {
  const path = join(dataDir, name);
  if (existsSync(path)) {
    const value = readFileSync(path, 'utf8').trim();
    if (value) return { value, created: false };
  }
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}

/** The API key: given (env), else stored in <data-dir>/api-key, else generated there. */
export function loadApiKey(dataDir: string): { apiKey: string; generated: boolean; path: string } {
  const { value, created } = fileSecret(
    dataDir,
    'api-key',
    () => `prk_${randomBytes(24).toString('base64url')}`,
  );
  return { apiKey: value, generated: created, path: join(dataDir, 'api-key') };
}

/** The HMAC key of presigned URLs; kept across restarts so URLs handed out stay valid until they expire. */
export function loadPresignSecret(dataDir: string): Buffer {
  return Buffer.from(
    fileSecret(dataDir, 'presign-secret', () => randomBytes(32).toString('hex')).value,
    'hex',
  );
}

/** The registry's one organization, created with the database. */
export async function loadOrganization(store: Store): Promise<string> {
  return (await store.meta.get('organization')) ?? store.meta.setIfAbsent('organization', randomUUID());
}
