import { randomUUID } from 'node:crypto';
import { optionalId } from '../fields.js';
import { fieldError, HttpError, notFound } from '../http.js';
import { bundleHash, resolveMetadata, sameContent } from '../releases/bundle.js';
import type { BinaryInfo } from '../releases/binary-lookup.js';
import type { ReleaseDeps } from '../releases/deps.js';
import { nullableString, optionalObject } from '../releases/fields.js';
import { bundleJson } from '../releases/json.js';
import { pathId, prn, splitPrn } from '../releases/prn.js';
import type { BundleBinary } from '../releases/types.js';
import type { Route } from '../router.js';

const conflict = (field: string, message: string) => new HttpError(409, { errors: { [field]: [message] } });

/**
 * Bundles: immutable ordered lists of signed binaries with their custom_metadata resolved at creation.
 * Only the name can change; a bundle a release or override uses cannot be deleted.
 */
export function bundleRoutes(d: ReleaseDeps): Route[] {
  const get = async (value: string) => {
    const row = await d.store.getBundle(pathId(d.org, value, 'bundle'));
    if (!row) throw notFound();
    return row;
  };

  /** `binaries` → resolved entries plus the binaries' hashes, refusing anything but this org's signed binaries. */
  async function entries(input: Record<string, unknown>) {
    const list = input.binaries;
    if (!Array.isArray(list) || list.length === 0) {
      throw fieldError(
        'binaries',
        "can't be blank: give a list of {prn, custom_metadata} for signed binaries",
      );
    }
    const out: (BundleBinary & { hash: string })[] = [];
    for (const [i, item] of list.entries()) {
      const field = `binaries[${i}].prn`;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw fieldError(`binaries[${i}]`, 'is invalid: must be an object {prn, custom_metadata}');
      }
      const entry = item as Record<string, unknown>;
      const given = optionalObject(entry, 'custom_metadata');
      const p = splitPrn(entry.prn);
      if (!p || (p.type !== 'binary' && p.type !== 'artifact_version'))
        throw fieldError(field, 'is invalid: must be a binary PRN');
      if (p.org !== d.org) throw notFound(`${field} ${String(entry.prn)}`);
      let binaries: BinaryInfo[];
      if (p.type === 'artifact_version') {
        // The Peridio CLI's `binaries create --cohort-prn` sends an artifact version PRN here: its binaries.
        const ofVersion = await d.binaries.binariesOfArtifactVersion(p.id);
        if (!ofVersion) throw notFound(`${field} ${String(entry.prn)}`);
        if (ofVersion.length === 0) throw fieldError(field, 'is an artifact version without binaries');
        binaries = ofVersion;
      } else {
        const binary = await d.binaries.binary(p.id);
        if (!binary) throw notFound(`${field} ${String(entry.prn)}`);
        binaries = [binary];
      }
      for (const b of binaries) {
        if (b.state !== 'signed') {
          throw fieldError(
            field,
            `binary ${prn(d.org, 'binary', b.id)} is ${b.state}; only signed binaries can be in a bundle`,
          );
        }
        if (out.some((o) => o.binary_id === b.id))
          throw fieldError(field, `binary ${prn(d.org, 'binary', b.id)} is listed twice`);
        out.push({
          binary_id: b.id,
          hash: b.hash,
          custom_metadata: resolveMetadata({ given, ...b.metadata }),
        });
      }
    }
    return out;
  }

  return [
    {
      method: 'POST',
      pattern: '/bundles',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const id = optionalId(input);
        const name = nullableString(input, 'name', 256) ?? null;
        const resolved = await entries(input);
        const binaries = resolved.map(({ binary_id, custom_metadata }) => ({ binary_id, custom_metadata }));
        const hash = bundleHash(resolved);
        const { bundle, created } = await d.store
          .createBundle({ id: id ?? randomUUID(), name, hash, binaries })
          .catch((err) => {
            throw conflict('id', `has already been taken: ${(err as Error).message}`);
          });
        if (!created && !sameContent(bundle.binaries, binaries)) {
          throw conflict(
            'id',
            `has already been taken by bundle ${prn(d.org, 'bundle', bundle.id)} with other content (hash ${bundle.hash}, this request's is ${hash}); bundles are immutable: use a new id`,
          );
        }
        return { status: created ? 201 : 200, body: { bundle: bundleJson(d.org, bundle) } };
      },
    },
    {
      method: 'GET',
      pattern: '/bundles',
      auth: true,
      async handler({ query }) {
        const page = await d.store.listBundles(query);
        return {
          status: 200,
          body: { bundles: page.items.map((r) => bundleJson(d.org, r)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/bundles/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { bundle: bundleJson(d.org, await get(params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/bundles/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await get(params.prn!);
        const input = await body();
        for (const key of ['binaries', 'hash', 'id']) {
          if (input[key] !== undefined) {
            throw fieldError(
              key,
              'cannot change: a bundle is immutable except for its name; create a new bundle instead',
            );
          }
        }
        const name = nullableString(input, 'name', 256);
        const row = name === undefined ? existing : await d.store.updateBundle(existing.id, { name });
        return { status: 200, body: { bundle: bundleJson(d.org, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/bundles/:prn',
      auth: true,
      async handler({ params }) {
        const existing = await get(params.prn!);
        const result = await d.store.deleteBundle(existing.id);
        if (!result.deleted) {
          const users = [
            ...result.releases.map((r) => `release ${prn(d.org, 'release', r)}`),
            ...result.overrides.map((o) => `bundle override ${prn(d.org, 'bundle_override', o)}`),
          ];
          throw conflict(
            'bundle',
            `is in use by ${users.join(', ')}; delete those (or point them at another bundle) first`,
          );
        }
        return { status: 204 };
      },
    },
  ];
}
