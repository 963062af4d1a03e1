import {
  certificateValidityProblem,
  chainProblem,
  formatPrn,
  InputError,
  parseSigningPublicKey,
  type SigningPublicKey,
} from '@peridio-actions/core';
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

/**
 * Any accepted key (Ed25519 raw base64 or PEM; RSA ≥ 2048 / ECDSA P-256 PEM; PEM certificate chain) →
 * the stored value and its keyid. Ed25519 keeps Peridio's wire form; the rest is stored as its PEM.
 */
export function parseKeyValue(ctx: RegistryContext, value: string): SigningPublicKey {
  let key: SigningPublicKey;
  try {
    key = parseSigningPublicKey(value, 'value');
  } catch (err) {
    // Core says what the key is and why it is refused ("is an RSA key of 1024 bits; …"): pass that on.
    const named = err instanceof InputError ? /^Input 'value': (.*)$/s.exec(err.message)?.[1] : undefined;
    throw fieldError(
      'value',
      named ??
        'is invalid: must be an Ed25519 public key (base64 of the raw 32 bytes, or PEM), an RSA (≥ 2048 bits) or ECDSA P-256 PEM public key, or a PEM certificate',
    );
  }
  const problem = certificateValidityProblem(key) ?? chainProblem(key, ctx.signingCas ?? []);
  if (problem) throw fieldError('value', problem);
  return key;
}

function normaliseValue(ctx: RegistryContext, value: string): { value: string; keyid: string } {
  const key = parseKeyValue(ctx, value);
  return { value: key.value, keyid: key.keyid };
}

/**
 * Why a key may not be deleted: the signed binaries it alone signs (deleting it would leave them with no
 * signature a device can check). The release-management work extends this to "in a live release".
 */
export function retirementBlockers(ctx: RegistryContext, keyRowId: string): string[] {
  const rows = ctx.db.all<{ id: string }>(
    `SELECT b.id FROM binaries b JOIN binary_signatures s ON s.binary_id = b.id
     WHERE s.signing_key_id = ? AND b.state = 'signed'
       AND (SELECT count(*) FROM binary_signatures o WHERE o.binary_id = b.id) = 1
     ORDER BY b.seq`,
    keyRowId,
  );
  return rows.map((r) => formatPrn(ctx.org, 'binary', r.id));
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
        const key = normaliseValue(
          ctx,
          requiredString(input, 'value', MAX_KEY_INPUT, { allowControl: true }),
        );
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
        const key = given === undefined ? undefined : normaliseValue(ctx, given);
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
          const blockers = retirementBlockers(ctx, existing.id);
          if (blockers.length > 0) {
            const named =
              blockers.slice(0, 10).join(', ') +
              (blockers.length > 10 ? `, and ${blockers.length - 10} more` : '');
            throw fieldError(
              'signing_key',
              `is the only signer of signed binaries ${named}; sign them with the new key first (sign-binary also-sign: true), then retire this one`,
            );
          }
          // Rotation: its signatures go with it; every binary they were on keeps another signature.
          ctx.db.run('DELETE FROM binary_signatures WHERE signing_key_id = ?', existing.id);
          ctx.db.run('DELETE FROM signing_keys WHERE id = ?', existing.id);
        });
        return { status: 204 };
      },
    },
  ];
}
