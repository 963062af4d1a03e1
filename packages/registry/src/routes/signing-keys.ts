import { InputError, keyIdOf, parsePublicKey, publicKeyValue } from '@peridio-actions/core/base';
import { randomUUID } from 'node:crypto';
import type { RegistryContext } from '../context.js';
import { idFromPathPrn, optionalString, requiredString } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import { listRows } from '../list.js';
import { signingKeyJson } from '../records.js';
import type { Route } from '../router.js';
import type { SigningKeyRow } from '../rows.js';
import { dateField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';

/** Long enough for any PEM public key, so a key of the wrong algorithm is named, not refused by length. */
const MAX_KEY_INPUT = 4096;

const SEARCH: SearchFields = {
  inserted_at: dateField('t.inserted_at'),
  keyid: stringField('t.keyid'),
  name: stringField('t.name', [':', '~']),
  prn: prnField('t.id', 'signing_key'),
  updated_at: dateField('t.updated_at'),
  value: stringField('t.value'),
};

export function findSigningKey(ctx: RegistryContext, id: string): SigningKeyRow | undefined {
  return ctx.db.get<SigningKeyRow>('SELECT * FROM signing_keys WHERE id = ? AND org = ?', id, ctx.org);
}

/** By full keyid (hex SHA-256 of the raw key) or Avocado's short form `sha256-<first 16 hex>`. */
export function findSigningKeyByKeyid(ctx: RegistryContext, keyid: string): SigningKeyRow | undefined {
  const k = keyid.trim().toLowerCase();
  const short = /^sha256-([0-9a-f]{16})$/.exec(k);
  if (short) {
    return ctx.db.get<SigningKeyRow>(
      'SELECT * FROM signing_keys WHERE org = ? AND substr(keyid, 1, 16) = ? ORDER BY seq LIMIT 1',
      ctx.org,
      short[1]!,
    );
  }
  return ctx.db.get<SigningKeyRow>('SELECT * FROM signing_keys WHERE org = ? AND keyid = ?', ctx.org, k);
}

function getKey(ctx: RegistryContext, prn: string): SigningKeyRow {
  const row = findSigningKey(ctx, idFromPathPrn(ctx, prn, 'signing_key'));
  if (!row) throw notFound();
  return row;
}

/** A PEM (SPKI) or raw base64 Ed25519 public key → stored raw base64 and its keyid. */
function normaliseValue(value: string): { value: string; keyid: string } {
  let raw: Uint8Array;
  try {
    raw = parsePublicKey(value, 'value');
  } catch (err) {
    // Core names the algorithm of a key that is not Ed25519 ("is an RSA key …"): pass that on.
    const named =
      err instanceof InputError ? /^Input 'value': (is an? .*)$/.exec(err.message)?.[1] : undefined;
    throw fieldError(
      'value',
      named ?? 'is invalid: must be an Ed25519 public key, as base64 of the raw 32 bytes or as a PEM',
    );
  }
  return { value: publicKeyValue(raw), keyid: keyIdOf(raw) };
}

function assertKeyFree(ctx: RegistryContext, keyid: string, exceptId = '') {
  if (
    ctx.db.get('SELECT 1 FROM signing_keys WHERE org = ? AND keyid = ? AND id <> ?', ctx.org, keyid, exceptId)
  ) {
    throw fieldError('value', 'has already been taken');
  }
}

export function signingKeyRoutes(ctx: RegistryContext): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/signing_keys',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const name = requiredString(input, 'name', 128);
        const key = normaliseValue(requiredString(input, 'value', MAX_KEY_INPUT, { allowControl: true }));
        const row = ctx.db.transaction(() => {
          assertKeyFree(ctx, key.keyid);
          const id = randomUUID();
          const now = nowTimestamp();
          ctx.db.run(
            `INSERT INTO signing_keys (id, org, name, value, keyid, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
            id,
            ctx.org,
            name,
            key.value,
            key.keyid,
            now,
            now,
          );
          return findSigningKey(ctx, id)!;
        });
        return { status: 201, body: { signing_key: signingKeyJson(ctx, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/signing_keys',
      auth: true,
      handler({ query }) {
        const page = listRows<SigningKeyRow>(ctx, query, 'signing_keys', SEARCH);
        return {
          status: 200,
          body: { signing_keys: page.rows.map((r) => signingKeyJson(ctx, r)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/signing_keys/:prn',
      auth: true,
      handler({ params }) {
        return { status: 200, body: { signing_key: signingKeyJson(ctx, getKey(ctx, params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/signing_keys/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = getKey(ctx, params.prn!);
        const input = await body();
        const name = optionalString(input, 'name', 128);
        const given = optionalString(input, 'value', MAX_KEY_INPUT, { allowControl: true });
        const key = given === undefined ? undefined : normaliseValue(given);
        const row = ctx.db.transaction(() => {
          if (key && key.keyid !== existing.keyid) {
            assertKeyFree(ctx, key.keyid, existing.id);
            if (ctx.db.get('SELECT 1 FROM binary_signatures WHERE signing_key_id = ?', existing.id)) {
              throw fieldError('value', 'cannot change: binary signatures were made with this key');
            }
          }
          ctx.db.run(
            `UPDATE signing_keys SET name = coalesce(?, name), value = coalesce(?, value), keyid = coalesce(?, keyid),
             updated_at = ? WHERE id = ?`,
            name ?? null,
            key?.value ?? null,
            key?.keyid ?? null,
            nowTimestamp(),
            existing.id,
          );
          return findSigningKey(ctx, existing.id)!;
        });
        return { status: 200, body: { signing_key: signingKeyJson(ctx, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/signing_keys/:prn',
      auth: true,
      handler({ params }) {
        const existing = getKey(ctx, params.prn!);
        ctx.db.transaction(() => {
          if (ctx.db.get('SELECT 1 FROM binary_signatures WHERE signing_key_id = ?', existing.id)) {
            throw fieldError('signing_key', 'is used by binary signatures; delete them first');
          }
          ctx.db.run('DELETE FROM signing_keys WHERE id = ?', existing.id);
        });
        return { status: 204 };
      },
    },
  ];
}
