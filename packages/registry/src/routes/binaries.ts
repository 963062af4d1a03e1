import { BINARY_STATES, MAX_BINARY_SIZE } from '@peridio-actions/core/base';
import { randomUUID } from 'node:crypto';
import { completeDirectUpload, downloadUrl, syncDirectParts } from '../content.js';
import type { RegistryContext } from '../context.js';
import {
  given,
  idFromPathPrn,
  optionalId,
  optionalInteger,
  optionalMetadata,
  optionalString,
  requiredBodyPrn,
  requiredInteger,
  requiredString,
  sha256Field,
} from '../fields.js';
import { fieldError, notFound } from '../http.js';
import { changeBinary, deleteUnfinished, destroy, findBinary, transition } from '../lifecycle.js';
import { listRows } from '../list.js';
import { binaryJson } from '../records.js';
import type { Route } from '../router.js';
import type { BinaryRow, BinaryStateName } from '../store/rows.js';
import { dateField, integerField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';

const SEARCH: SearchFields = {
  artifact_version_prn: prnField('artifact_version'),
  description: stringField([':', '~']),
  hash: stringField(),
  inserted_at: dateField(),
  prn: prnField('binary'),
  size: integerField(),
  state: stringField(),
  target: stringField([':', '~']),
  updated_at: dateField(),
};

export async function getBinary(ctx: RegistryContext, prn: string): Promise<BinaryRow> {
  const row = await findBinary(ctx, idFromPathPrn(ctx, prn, 'binary'));
  if (!row) throw notFound();
  return row;
}

function requestedState(input: Record<string, unknown>): BinaryStateName | undefined {
  if (!given(input, 'state')) return undefined;
  const state = input.state as BinaryStateName;
  if (!BINARY_STATES.includes(state))
    throw fieldError('state', `is invalid: must be one of ${BINARY_STATES.join(', ')}`);
  return state;
}

interface BinaryPatch {
  state: BinaryStateName | undefined;
  hash: string | undefined;
  size: number | undefined;
  description: string | undefined;
  metadata: string | undefined;
}

/**
 * The whole request is checked before anything changes: new content (hash, size) needs the binary to end
 * up `uploadable`, so `{state: "destroyed", hash}` is refused as a whole, with the content untouched.
 */
function checkContentChange(binary: BinaryRow, patch: BinaryPatch): void {
  const hashChanges = patch.hash !== undefined && patch.hash !== binary.hash;
  const sizeChanges = patch.size !== undefined && patch.size !== binary.size;
  const after = patch.state ?? binary.state;
  if ((hashChanges || sizeChanges) && after !== 'uploadable') {
    throw fieldError(
      hashChanges ? 'hash' : 'size',
      `can only change while the binary is uploadable (it is ${after}); reset it to uploadable first`,
    );
  }
}

export function binaryRoutes(ctx: RegistryContext): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/binaries',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const versionId = requiredBodyPrn(ctx, input, 'artifact_version_prn', 'artifact_version');
        const hash = sha256Field(input, 'hash', true);
        const size = requiredInteger(input, 'size', 0, MAX_BINARY_SIZE);
        const target = requiredString(input, 'target', 128);
        const description = optionalString(input, 'description', 256, { allowControl: true }) ?? null;
        const metadata = optionalMetadata(input) ?? null;
        const id = optionalId(input) ?? randomUUID();
        const row = await ctx.store.transaction(async (tx) => {
          if (!(await tx.artifactVersions.find(ctx.org, versionId))) {
            throw notFound(`artifact_version_prn ${String(input.artifact_version_prn)}`);
          }
          if (await tx.binaries.findLive(versionId, target))
            throw fieldError('target', 'has already been taken');
          if (await tx.binaries.idTaken(id)) throw fieldError('id', 'has already been taken');
          const now = nowTimestamp();
          return tx.binaries.insert({
            id,
            org: ctx.org,
            artifact_version_id: versionId,
            target,
            hash,
            size,
            description,
            custom_metadata: metadata,
            inserted_at: now,
            updated_at: now,
          });
        });
        return { status: 201, body: { binary: await binaryJson(ctx, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/binaries',
      auth: true,
      async handler({ query }) {
        const page = await listRows(ctx, query, ctx.store.binaries, SEARCH);
        const signatures = await ctx.store.signatures.forBinaries(page.rows.map((r) => r.id));
        const binaries = await Promise.all(page.rows.map((r) => binaryJson(ctx, r, signatures.get(r.id))));
        return { status: 200, body: { binaries, next_page: page.next_page } };
      },
    },
    {
      method: 'GET',
      pattern: '/binaries/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { binary: await binaryJson(ctx, await getBinary(ctx, params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/binaries/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await getBinary(ctx, params.prn!);
        const input = await body();
        const patch: BinaryPatch = {
          state: requestedState(input),
          hash: sha256Field(input, 'hash', false),
          size: optionalInteger(input, 'size', 0, MAX_BINARY_SIZE),
          description: optionalString(input, 'description', 256, { allowControl: true }),
          metadata: optionalMetadata(input),
        };
        // Parts sent straight to the content store count once the store shows them.
        if (patch.state === 'hashable') await syncDirectParts(ctx, existing);
        let startHashing = false;
        const row = await changeBinary(ctx, existing.id, async (tx) => {
          const current = (await findBinary(ctx, existing.id, tx)) ?? existing;
          checkContentChange(current, patch);
          // The state first, so `{state: "uploadable", hash, size}` resets and then takes the new content's hash.
          if (patch.state !== undefined) startHashing = await transition(tx, current, patch.state);
          const { hash, size, description, metadata } = patch;
          if ([hash, size, description, metadata].some((v) => v !== undefined)) {
            return tx.binaries.update(existing.id, {
              hash,
              size,
              description,
              custom_metadata: metadata,
              updated_at: nowTimestamp(),
            });
          }
          return (await findBinary(ctx, existing.id, tx))!;
        });
        if (row.state === 'hashable' && existing.state === 'uploadable') await completeDirectUpload(ctx, row);
        if (startHashing) ctx.enqueueHashing(row.id);
        return { status: 200, body: { binary: await binaryJson(ctx, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/binaries/:prn',
      auth: true,
      async handler({ params }) {
        const existing = await getBinary(ctx, params.prn!);
        await changeBinary(ctx, existing.id, async (tx) => {
          const current = await findBinary(ctx, existing.id, tx);
          if (!current || current.state === 'destroyed') return;
          if (current.state === 'signable' || current.state === 'signed') await destroy(tx, current);
          else await deleteUnfinished(tx, current);
        });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: '/binaries/:prn/download_url',
      auth: true,
      async handler({ params, baseUrl }) {
        const binary = await getBinary(ctx, params.prn!);
        if ((binary.state !== 'signable' && binary.state !== 'signed') || !binary.blob_hash) {
          throw fieldError(
            'state',
            `a download URL needs a signable or signed binary; this one is ${binary.state}`,
          );
        }
        return {
          status: 200,
          body: { download_url: await downloadUrl(ctx, baseUrl, binary) },
        };
      },
    },
  ];
}
