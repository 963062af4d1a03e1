import {
  certificateValidityProblem,
  chainProblem,
  formatPrn,
  InputError,
  parseSigningPublicKey,
  type SigningPublicKey,
} from '@peridio-actions/core/base';
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
 * Any accepted key (Ed25519 raw base64 or PEM; RSA ≥ 2048 / ECDSA P-256 PEM; PEM certificate chain) →
 * the stored value and its keyid. Ed25519 keeps Peridio's wire form; the rest is stored as its PEM.
 */
function parseKeyValue(ctx: RegistryContext, value: string): SigningPublicKey {
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
async function retirementBlockers(
  ctx: RegistryContext,
  tx: Repositories,
  keyRowId: string,
): Promise<string[]> {
  return (await tx.signingKeys.soleSignerOf(keyRowId)).map((id) => formatPrn(ctx.org, 'binary', id));
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
        const key = normaliseValue(
          ctx,
          requiredString(input, 'value', MAX_KEY_INPUT, { allowControl: true }),
        );
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
        const key = given === undefined ? undefined : normaliseValue(ctx, given);
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
          const blockers = await retirementBlockers(ctx, tx, existing.id);
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
          await tx.signatures.deleteByKey(existing.id);
          await tx.signingKeys.delete(existing.id);
        });
        return { status: 204 };
      },
    },
  ];
}
