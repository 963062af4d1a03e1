import {
  certificateValidityProblem,
  chainProblem,
  decodeSignature,
  parseSigningPublicKey,
  verifySignature,
} from '@peridio-actions/core/base';
import { randomUUID } from 'node:crypto';
import type { RegistryContext } from '../context.js';
import { given, idFromBodyPrn, idFromPathPrn, requiredBodyPrn } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import { findBinary } from '../lifecycle.js';
import { listRows } from '../list.js';
import { signatureJson } from '../records.js';
import type { Route } from '../router.js';
import type { SigningKeyRow } from '../store/rows.js';
import { dateField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';
import { findSigningKeyByKeyid } from './signing-keys.js';

const SEARCH: SearchFields = {
  binary_prn: prnField('binary'),
  inserted_at: dateField(),
  prn: prnField('binary_signature'),
  signing_key_prn: prnField('signing_key'),
  // Undocumented, but the Peridio CLI de-duplicates pre-computed signatures with it.
  'signature.signing_key.keyid': stringField(),
  updated_at: dateField(),
};

async function resolveKey(ctx: RegistryContext, input: Record<string, unknown>): Promise<SigningKeyRow> {
  const byPrn = idFromBodyPrn(ctx, input, 'signing_key_prn', 'signing_key');
  const keyid = given(input, 'signing_key_keyid') ? input.signing_key_keyid : undefined;
  if (keyid !== undefined && typeof keyid !== 'string')
    throw fieldError('signing_key_keyid', 'is invalid: must be a string');
  if (byPrn === undefined && keyid === undefined) {
    throw fieldError('signing_key_prn', "can't be blank: give signing_key_prn or signing_key_keyid");
  }
  const key =
    byPrn !== undefined
      ? await ctx.store.signingKeys.find(ctx.org, byPrn)
      : await findSigningKeyByKeyid(ctx, keyid!);
  if (!key) {
    if (byPrn !== undefined) throw notFound(`signing_key_prn ${String(input.signing_key_prn)}`);
    throw fieldError('signing_key_keyid', 'does not match a signing key');
  }
  if (
    byPrn !== undefined &&
    keyid !== undefined &&
    (await findSigningKeyByKeyid(ctx, keyid))?.id !== key.id
  ) {
    throw fieldError('signing_key_keyid', 'does not match the key of signing_key_prn');
  }
  return key;
}

export function signatureRoutes(ctx: RegistryContext): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/binary_signatures',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const binaryId = requiredBodyPrn(ctx, input, 'binary_prn', 'binary');
        const given = input.signature;
        const decoded = typeof given === 'string' ? decodeSignature(given) : undefined;
        if (!decoded || decoded.length < 64 || decoded.length > 1024) {
          throw fieldError(
            'signature',
            'is invalid: must be the signature in hex (Ed25519: 128 characters) or base64 (e.g. of `openssl dgst -sha256 -sign` output)',
          );
        }
        // Stored as hex: as given when it was hex, so a Peridio client reads back what it sent.
        const signature = /^[0-9a-fA-F]+$/.test(String(given).trim())
          ? String(given).trim()
          : decoded.toString('hex').toUpperCase();
        const key = await resolveKey(ctx, input);
        const publicKey = parseSigningPublicKey(key.value);
        // A certificate signs only while it is valid, and only while its CA is still trusted.
        const refused =
          certificateValidityProblem(publicKey) ?? chainProblem(publicKey, ctx.signingCas ?? []);
        if (refused) throw fieldError('signing_key', `${key.keyid} cannot sign now: ${refused}`);
        const result = await ctx.store.transaction(async (tx) => {
          const binary = await findBinary(ctx, binaryId, tx);
          if (!binary) throw notFound(`binary_prn ${String(input.binary_prn)}`);
          if (binary.state !== 'signable' && binary.state !== 'signed') {
            throw fieldError('binary', `must be signable to be signed; it is ${binary.state}`);
          }
          // What the Peridio CLI signs (the 64 ASCII hex characters) or, as peridiod also accepts, the raw digest.
          if (!verifySignature(binary.hash, decoded, publicKey, { allowRawDigest: true })) {
            throw fieldError(
              'signature',
              publicKey.algorithm === 'ed25519'
                ? `Invalid signature: it does not verify with signing key ${key.keyid}; sign the hash of the binary (its 64 lowercase hex characters)`
                : `Invalid signature: it does not verify with signing key ${key.keyid}; sign the content's SHA-256 (openssl dgst -sha256 -sign key.pem file)`,
            );
          }
          const existing = await tx.signatures.findByKey(binary.id, key.id);
          // Signed by this key already: the same answer again, not a second signature.
          if (existing) return { status: 200, row: existing };
          const now = nowTimestamp();
          const row = await tx.signatures.insert({
            id: randomUUID(),
            org: ctx.org,
            binary_id: binary.id,
            signing_key_id: key.id,
            signature,
            inserted_at: now,
            updated_at: now,
          });
          if (binary.state === 'signable') await tx.binaries.transition(binary.id, { to: 'signed' }, now);
          return { status: 201, row };
        });
        return { status: result.status, body: { binary_signature: await signatureJson(ctx, result.row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/binary_signatures',
      auth: true,
      async handler({ query }) {
        const page = await listRows(ctx, query, ctx.store.signatures, SEARCH);
        const binary_signatures = await Promise.all(page.rows.map((r) => signatureJson(ctx, r)));
        return { status: 200, body: { binary_signatures, next_page: page.next_page } };
      },
    },
    {
      method: 'GET',
      pattern: '/binary_signatures/:prn',
      auth: true,
      async handler({ params }) {
        const row = await ctx.store.signatures.find(
          ctx.org,
          idFromPathPrn(ctx, params.prn!, 'binary_signature'),
        );
        if (!row) throw notFound();
        return { status: 200, body: { binary_signature: await signatureJson(ctx, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/binary_signatures/:prn',
      auth: true,
      async handler({ params }) {
        const row = await ctx.store.signatures.find(
          ctx.org,
          idFromPathPrn(ctx, params.prn!, 'binary_signature'),
        );
        if (!row) throw notFound();
        await ctx.store.transaction(async (tx) => {
          const binary = await findBinary(ctx, row.binary_id, tx);
          if (binary?.state === 'signed' && (await tx.signatures.count(binary.id)) === 1) {
            throw fieldError(
              'binary_signature',
              'is the only signature of a signed binary, which stays signed; destroy the binary instead',
            );
          }
          await tx.signatures.delete(row.id);
        });
        return { status: 204 };
      },
    },
  ];
}
