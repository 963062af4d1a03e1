import { verifyHashSignature } from '@peridio-actions/core/base';
import { fieldError, notFound } from '../http.js';
import type { ReleaseDeps } from '../releases/deps.js';
import { bundleSignatureJson } from '../releases/json.js';
import { bodyId, pathId, prn, requiredBodyId } from '../releases/prn.js';
import type { Route } from '../router.js';

/**
 * Bundle signatures: Ed25519 over the ASCII of the bundle's lowercase hex `hash` (or its raw digest, as
 * for binaries), checked at creation. Attestation for tooling: devices never see them.
 */
export function bundleSignatureRoutes(d: ReleaseDeps): Route[] {
  async function resolveKey(input: Record<string, unknown>) {
    const byId = bodyId(d.org, input, 'signing_key_prn', 'signing_key');
    const keyid = input.signing_key_keyid ?? undefined;
    if (keyid !== undefined && keyid !== null && typeof keyid !== 'string')
      throw fieldError('signing_key_keyid', 'is invalid: must be a string');
    if (byId === undefined && (keyid === undefined || keyid === null))
      throw fieldError('signing_key_prn', "can't be blank: give signing_key_prn or signing_key_keyid");
    const key =
      byId !== undefined
        ? await d.binaries.signingKey({ id: byId })
        : await d.binaries.signingKey({ keyid: keyid as string });
    if (!key) {
      if (byId !== undefined) throw notFound(`signing_key_prn ${String(input.signing_key_prn)}`);
      throw fieldError('signing_key_keyid', 'does not match a signing key');
    }
    if (byId !== undefined && typeof keyid === 'string' && keyid !== key.keyid)
      throw fieldError('signing_key_keyid', 'does not match the key of signing_key_prn');
    return key;
  }

  return [
    {
      method: 'POST',
      pattern: '/bundle_signatures',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const bundleId = requiredBodyId(d.org, input, 'bundle_prn', 'bundle');
        const signature = input.signature;
        if (typeof signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signature)) {
          throw fieldError(
            'signature',
            'is invalid: must be the 64-byte Ed25519 signature as 128 hex characters',
          );
        }
        const key = await resolveKey(input);
        const bundle = await d.store.getBundle(bundleId);
        if (!bundle) throw notFound(`bundle_prn ${String(input.bundle_prn)}`);
        if (!verifyHashSignature(bundle.hash, signature, key.value, { allowRawDigest: true })) {
          throw fieldError(
            'signature',
            `Invalid signature: it does not verify with signing key ${key.keyid}; sign the hash of the bundle (its 64 lowercase hex characters, ${bundle.hash})`,
          );
        }
        const { signature: row, created } = await d.store.createBundleSignature({
          bundle_id: bundle.id,
          signing_key_id: key.id,
          keyid: key.keyid,
          signature,
        });
        return { status: created ? 201 : 200, body: { bundle_signature: bundleSignatureJson(d.org, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/bundle_signatures',
      auth: true,
      async handler({ query }) {
        const page = await d.store.listBundleSignatures(query);
        return {
          status: 200,
          body: {
            bundle_signatures: page.items.map((r) => bundleSignatureJson(d.org, r)),
            next_page: page.next_page,
          },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/bundle_signatures/:prn',
      auth: true,
      async handler({ params }) {
        const row = await d.store.getBundleSignature(pathId(d.org, params.prn!, 'bundle_signature'));
        if (!row) throw notFound();
        return { status: 200, body: { bundle_signature: bundleSignatureJson(d.org, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/bundle_signatures/:prn',
      auth: true,
      async handler({ params }) {
        if (!(await d.store.deleteBundleSignature(pathId(d.org, params.prn!, 'bundle_signature'))))
          throw notFound();
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: '/bundles/:prn/signatures',
      auth: true,
      async handler({ params }) {
        const bundleId = pathId(d.org, params.prn!, 'bundle');
        if (!(await d.store.getBundle(bundleId))) throw notFound();
        const rows = await d.store.signaturesOfBundle(bundleId);
        // The spec's key; the Rust SDK's struct reads `signatures` (release-management docs: decision).
        return {
          status: 200,
          body: {
            bundle_signatures: rows.map((r) => ({
              signature: r.signature,
              signing_key_prn: prn(d.org, 'signing_key', r.signing_key_id),
              keyid: r.keyid,
            })),
          },
        };
      },
    },
  ];
}
