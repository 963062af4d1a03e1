import { randomUUID } from 'node:crypto';
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
import { BINARY_STATES, destroy, findBinary, transition } from '../lifecycle.js';
import { listRows } from '../list.js';
import { binaryJson } from '../records.js';
import type { Route } from '../router.js';
import type { BinaryRow, BinaryStateName } from '../rows.js';
import { dateField, integerField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';
import { findArtifactVersion } from './artifact-versions.js';

export const MAX_BINARY_SIZE = 53_687_091_200_000;

const SEARCH: SearchFields = {
  artifact_version_prn: prnField('t.artifact_version_id', 'artifact_version'),
  description: stringField('t.description', [':', '~']),
  hash: stringField('t.hash'),
  inserted_at: dateField('t.inserted_at'),
  prn: prnField('t.id', 'binary'),
  size: integerField('t.size'),
  state: stringField('t.state'),
  target: stringField('t.target', [':', '~']),
  updated_at: dateField('t.updated_at'),
};

export function getBinary(ctx: RegistryContext, prn: string): BinaryRow {
  const row = findBinary(ctx, idFromPathPrn(ctx, prn, 'binary'));
  if (!row) throw notFound();
  return row;
}

function assertTargetFree(ctx: RegistryContext, versionId: string, target: string) {
  const clash = ctx.db.get(
    "SELECT 1 FROM binaries WHERE artifact_version_id = ? AND target = ? AND state <> 'destroyed'",
    versionId,
    target,
  );
  if (clash) throw fieldError('target', 'has already been taken');
}

function requestedState(input: Record<string, unknown>): BinaryStateName | undefined {
  if (!given(input, 'state')) return undefined;
  const state = input.state as BinaryStateName;
  if (!BINARY_STATES.includes(state))
    throw fieldError('state', `is invalid: must be one of ${BINARY_STATES.join(', ')}`);
  return state;
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
        const row = ctx.db.transaction(() => {
          if (!findArtifactVersion(ctx, versionId)) {
            throw notFound(`artifact_version_prn ${String(input.artifact_version_prn)}`);
          }
          assertTargetFree(ctx, versionId, target);
          if (ctx.db.get('SELECT 1 FROM binaries WHERE id = ?', id))
            throw fieldError('id', 'has already been taken');
          const now = nowTimestamp();
          ctx.db.run(
            `INSERT INTO binaries (id, org, artifact_version_id, target, hash, size, state, description,
             custom_metadata, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'uploadable', ?, ?, ?, ?)`,
            id,
            ctx.org,
            versionId,
            target,
            hash,
            size,
            description,
            metadata,
            now,
            now,
          );
          return findBinary(ctx, id)!;
        });
        return { status: 201, body: { binary: binaryJson(ctx, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/binaries',
      auth: true,
      handler({ query }) {
        const page = listRows<BinaryRow>(ctx, query, 'binaries', SEARCH);
        return {
          status: 200,
          body: { binaries: page.rows.map((r) => binaryJson(ctx, r)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/binaries/:prn',
      auth: true,
      handler({ params }) {
        return { status: 200, body: { binary: binaryJson(ctx, getBinary(ctx, params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/binaries/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = getBinary(ctx, params.prn!);
        const input = await body();
        const state = requestedState(input);
        const hash = sha256Field(input, 'hash', false);
        const size = optionalInteger(input, 'size', 0, MAX_BINARY_SIZE);
        const description = optionalString(input, 'description', 256, { allowControl: true });
        const metadata = optionalMetadata(input);
        let startHashing = false;
        const row = ctx.db.transaction(() => {
          // The state first, so `{state: "uploadable", hash, size}` resets and then takes the new content's hash.
          if (state !== undefined) startHashing = transition(ctx, existing, state);
          const current = findBinary(ctx, existing.id)!;
          const contentChanges =
            (hash !== undefined && hash !== current.hash) || (size !== undefined && size !== current.size);
          if (contentChanges && current.state !== 'uploadable') {
            throw fieldError(
              hash !== undefined && hash !== current.hash ? 'hash' : 'size',
              `can only change while the binary is uploadable (it is ${current.state}); reset it to uploadable first`,
            );
          }
          if (contentChanges || description !== undefined || metadata !== undefined) {
            ctx.db.run(
              `UPDATE binaries SET hash = coalesce(?, hash), size = coalesce(?, size), description = coalesce(?, description),
               custom_metadata = coalesce(?, custom_metadata), updated_at = ? WHERE id = ?`,
              hash ?? null,
              size ?? null,
              description ?? null,
              metadata ?? null,
              nowTimestamp(),
              existing.id,
            );
          }
          return findBinary(ctx, existing.id)!;
        });
        if (startHashing) ctx.enqueueHashing(row.id);
        return { status: 200, body: { binary: binaryJson(ctx, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/binaries/:prn',
      auth: true,
      handler({ params }) {
        const existing = getBinary(ctx, params.prn!);
        ctx.db.transaction(() => {
          if (existing.state === 'signable' || existing.state === 'signed') {
            destroy(ctx, existing);
          } else if (existing.state !== 'destroyed') {
            // Never verified, never signed: nothing worth keeping a record of.
            ctx.db.run('DELETE FROM binaries WHERE id = ?', existing.id);
            ctx.storage.removePartsSync(existing.id);
          }
        });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: '/binaries/:prn/download_url',
      auth: true,
      handler({ params, baseUrl }) {
        const binary = getBinary(ctx, params.prn!);
        if ((binary.state !== 'signable' && binary.state !== 'signed') || !binary.blob_hash) {
          throw fieldError(
            'state',
            `a download URL needs a signable or signed binary; this one is ${binary.state}`,
          );
        }
        return {
          status: 200,
          body: { download_url: ctx.presigner.downloadUrl(baseUrl, binary.id, binary.blob_hash) },
        };
      },
    },
  ];
}
