import { InputError, keyIdOf, parsePublicKey, publicKeyValue } from '@peridio-actions/core';
import { randomUUID } from 'node:crypto';
import type { RegistryContext } from '../context.js';
import { idFromPathPrn, optionalString, requiredString } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import { listRows } from '../list.js';
import { signingKeyJson } from '../records.js';
import type { Route } from '../router.js';
import type { SigningKeyRow } from '../store/rows.js';
import type { Repositories } from '../store/store.js';
import { dateField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';

/** Long enough for any PEM public key, so a key of the wrong algorithm is named, not refused by length. */
const MAX_KEY_INPUT = 4096;

const SEARCH: SearchFields = {
  inserted_at: dateField(),
  keyid: stringField(),
  name: stringField([':', '~']),
  prn: prnField('signing_key'),
  updated_at: dateField(),
  value: stringField(),
};

/** By full keyid (hex SHA-256 of the raw key) or Avocado's short form `sha256-<first 16 hex>`. */
export function findSigningKeyByKeyid(
  ctx: RegistryContext,
  keyid: string,
  repos: Repositories = ctx.store,
): Promise<SigningKeyRow | undefined> {
  const k = keyid.trim().toLowerCase();
  const short = /^sha256-([0-9a-f]{16})$/.exec(k);
  if (short) return repos.signingKeys.findByKeyidPrefix(ctx.org, short[1]!);
  return repos.signingKeys.findByKeyid(ctx.org, k);
}

async function getKey(ctx: RegistryContext, prn: string): Promise<SigningKeyRow> {
  const row = await ctx.store.signingKeys.find(ctx.org, idFromPathPrn(ctx, prn, 'signing_key'));
  if (!row) throw notFound();
  return row;
}

/**
 * What core says about a key it refused, as the registry's message: core names the algorithm of a key that
 * is not Ed25519 ("is an RSA key …"), which is worth passing on; anything else gets the generic hint.
 */
function keyRefusal(err: unknown): string | undefined {
  return err instanceof InputError ? /^Input 'value': (is an? .*)$/.exec(err.message)?.[1] : undefined;
}

/** A PEM (SPKI) or raw base64 Ed25519 public key → stored raw base64 and its keyid. */
function normaliseValue(value: string): { value: string; keyid: string } {
  let raw: Uint8Array;
  try {
    raw = parsePublicKey(value, 'value');
  } catch (err) {
    throw fieldError(
      'value',
      keyRefusal(err) ??
        'is invalid: must be an Ed25519 public key, as base64 of the raw 32 bytes or as a PEM',
    );
  }
  return { value: publicKeyValue(raw), keyid: keyIdOf(raw) };
}

async function assertKeyFree(ctx: RegistryContext, tx: Repositories, keyid: string, exceptId?: string) {
  if (await tx.signingKeys.keyidTaken(ctx.org, keyid, exceptId))
    throw fieldError('value', 'has already been taken');
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
        const row = await ctx.store.transaction(async (tx) => {
          await assertKeyFree(ctx, tx, key.keyid);
          const now = nowTimestamp();
          return tx.signingKeys.insert({
            id: randomUUID(),
            org: ctx.org,
            name,
            value: key.value,
            keyid: key.keyid,
            inserted_at: now,
            updated_at: now,
          });
        });
        return { status: 201, body: { signing_key: signingKeyJson(ctx, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/signing_keys',
      auth: true,
      async handler({ query }) {
        const page = await listRows(ctx, query, ctx.store.signingKeys, SEARCH);
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
      async handler({ params }) {
        return { status: 200, body: { signing_key: signingKeyJson(ctx, await getKey(ctx, params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/signing_keys/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await getKey(ctx, params.prn!);
        const input = await body();
        const name = optionalString(input, 'name', 128);
        const given = optionalString(input, 'value', MAX_KEY_INPUT, { allowControl: true });
        const key = given === undefined ? undefined : normaliseValue(given);
        const row = await ctx.store.transaction(async (tx) => {
          if (key && key.keyid !== existing.keyid) {
            await assertKeyFree(ctx, tx, key.keyid, existing.id);
            if (await tx.signingKeys.inUse(existing.id)) {
              throw fieldError('value', 'cannot change: binary signatures were made with this key');
            }
          }
          return tx.signingKeys.update(existing.id, {
            name,
            value: key?.value,
            keyid: key?.keyid,
            updated_at: nowTimestamp(),
          });
        });
        return { status: 200, body: { signing_key: signingKeyJson(ctx, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/signing_keys/:prn',
      auth: true,
      async handler({ params }) {
        const existing = await getKey(ctx, params.prn!);
        await ctx.store.transaction(async (tx) => {
          if (await tx.signingKeys.inUse(existing.id)) {
            throw fieldError('signing_key', 'is used by binary signatures; delete them first');
          }
          await tx.signingKeys.delete(existing.id);
        });
        return { status: 204 };
      },
    },
  ];
}
