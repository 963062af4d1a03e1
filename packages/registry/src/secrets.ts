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

const PRESIGN_SECRET_HEX_CHARS = 64;

/**
 * The HMAC key of presigned URLs; kept across restarts so URLs handed out stay valid until they expire.
 * Anything but 64 hex characters is refused: Buffer.from(text, 'hex') would quietly yield a short or empty
 * key, and URLs signed with an empty key can be forged by anyone.
 */
export function loadPresignSecret(dataDir: string): Buffer {
  const text = fileSecret(dataDir, 'presign-secret', () =>
    randomBytes(PRESIGN_SECRET_HEX_CHARS / 2).toString('hex'),
  ).value;
  if (!new RegExp(`^[0-9a-fA-F]{${PRESIGN_SECRET_HEX_CHARS}}$`).test(text)) {
    throw new Error(
      `${join(dataDir, 'presign-secret')} does not hold a presign secret: expected exactly ` +
        `${PRESIGN_SECRET_HEX_CHARS} hex characters, found ${text.length} characters` +
        `${/^[0-9a-fA-F]*$/.test(text) ? '' : ' (not all hex)'}. Delete the file to have a new secret ` +
        'generated (presigned URLs handed out before then stop working).',
    );
  }
  return Buffer.from(text, 'hex');
}

/** The registry's one organization, created with the database. */
export async function loadOrganization(store: Store): Promise<string> {
  return (await store.meta.get('organization')) ?? store.meta.setIfAbsent('organization', randomUUID());
}
