import { verifyHashSignature } from '@peridio-actions/core/base';
import { randomUUID } from 'node:crypto';
import type { RegistryContext } from '../context.js';
import { given, idFromBodyPrn, idFromPathPrn, requiredBodyPrn } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import { findBinary, signatureCount } from '../lifecycle.js';
import { listRows } from '../list.js';
import { signatureJson } from '../records.js';
import type { Route } from '../router.js';
import type { SignatureRow, SigningKeyRow } from '../rows.js';
import { dateField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';
import { findSigningKey, findSigningKeyByKeyid } from './signing-keys.js';

const SEARCH: SearchFields = {
  binary_prn: prnField('t.binary_id', 'binary'),
  inserted_at: dateField('t.inserted_at'),
  prn: prnField('t.id', 'binary_signature'),
  signing_key_prn: prnField('t.signing_key_id', 'signing_key'),
  // Undocumented, but the Peridio CLI de-duplicates pre-computed signatures with it.
  'signature.signing_key.keyid': stringField(
    '(SELECT k.keyid FROM signing_keys k WHERE k.id = t.signing_key_id)',
  ),
  updated_at: dateField('t.updated_at'),
};

function findSignature(ctx: RegistryContext, id: string): SignatureRow | undefined {
  return ctx.db.get<SignatureRow>('SELECT * FROM binary_signatures WHERE id = ? AND org = ?', id, ctx.org);
}

function resolveKey(ctx: RegistryContext, input: Record<string, unknown>): SigningKeyRow {
  const byPrn = idFromBodyPrn(ctx, input, 'signing_key_prn', 'signing_key');
  const keyid = given(input, 'signing_key_keyid') ? input.signing_key_keyid : undefined;
  if (keyid !== undefined && typeof keyid !== 'string')
    throw fieldError('signing_key_keyid', 'is invalid: must be a string');
  if (byPrn === undefined && keyid === undefined) {
    throw fieldError('signing_key_prn', "can't be blank: give signing_key_prn or signing_key_keyid");
  }
  const key = byPrn !== undefined ? findSigningKey(ctx, byPrn) : findSigningKeyByKeyid(ctx, keyid!);
  if (!key) {
    if (byPrn !== undefined) throw notFound(`signing_key_prn ${String(input.signing_key_prn)}`);
    throw fieldError('signing_key_keyid', 'does not match a signing key');
  }
  if (byPrn !== undefined && keyid !== undefined && findSigningKeyByKeyid(ctx, keyid)?.id !== key.id) {
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
        const signature = input.signature;
        if (typeof signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signature)) {
          throw fieldError(
            'signature',
            'is invalid: must be the 64-byte Ed25519 signature as 128 hex characters',
          );
        }
        const key = resolveKey(ctx, input);
        const result = ctx.db.transaction(() => {
          const binary = findBinary(ctx, binaryId);
          if (!binary) throw notFound(`binary_prn ${String(input.binary_prn)}`);
          if (binary.state !== 'signable' && binary.state !== 'signed') {
            throw fieldError('binary', `must be signable to be signed; it is ${binary.state}`);
          }
          // What the Peridio CLI signs (the 64 ASCII hex characters) or, as peridiod also accepts, the raw digest.
          if (!verifyHashSignature(binary.hash, signature, key.value, { allowRawDigest: true })) {
            throw fieldError(
              'signature',
              `Invalid signature: it does not verify with signing key ${key.keyid}; sign the hash of the binary (its 64 lowercase hex characters)`,
            );
          }
          const existing = ctx.db.get<SignatureRow>(
            'SELECT * FROM binary_signatures WHERE binary_id = ? AND signing_key_id = ?',
            binary.id,
            key.id,
          );
          // Signed by this key already: the same answer again, not a second signature.
          if (existing) return { status: 200, row: existing };
          const id = randomUUID();
          const now = nowTimestamp();
          ctx.db.run(
            `INSERT INTO binary_signatures (id, org, binary_id, signing_key_id, signature, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
            id,
            ctx.org,
            binary.id,
            key.id,
            signature,
            now,
            now,
          );
          if (binary.state === 'signable') {
            ctx.db.run("UPDATE binaries SET state = 'signed', updated_at = ? WHERE id = ?", now, binary.id);
          }
          return { status: 201, row: findSignature(ctx, id)! };
        });
        return { status: result.status, body: { binary_signature: signatureJson(ctx, result.row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/binary_signatures',
      auth: true,
      handler({ query }) {
        const page = listRows<SignatureRow>(ctx, query, 'binary_signatures', SEARCH);
        return {
          status: 200,
          body: { binary_signatures: page.rows.map((r) => signatureJson(ctx, r)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/binary_signatures/:prn',
      auth: true,
      handler({ params }) {
        const row = findSignature(ctx, idFromPathPrn(ctx, params.prn!, 'binary_signature'));
        if (!row) throw notFound();
        return { status: 200, body: { binary_signature: signatureJson(ctx, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/binary_signatures/:prn',
      auth: true,
      handler({ params }) {
        const row = findSignature(ctx, idFromPathPrn(ctx, params.prn!, 'binary_signature'));
        if (!row) throw notFound();
        ctx.db.transaction(() => {
          const binary = findBinary(ctx, row.binary_id);
          if (binary?.state === 'signed' && signatureCount(ctx, binary.id) === 1) {
            throw fieldError(
              'binary_signature',
              'is the only signature of a signed binary, which stays signed; destroy the binary instead',
            );
          }
          ctx.db.run('DELETE FROM binary_signatures WHERE id = ?', row.id);
        });
        return { status: 204 };
      },
    },
  ];
}
