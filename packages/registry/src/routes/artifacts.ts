import { randomUUID } from 'node:crypto';
import type { RegistryContext } from '../context.js';
import { idFromPathPrn, optionalId, optionalMetadata, optionalString, requiredString } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import { listRows } from '../list.js';
import { artifactJson } from '../records.js';
import type { Route } from '../router.js';
import type { ArtifactRow } from '../store/rows.js';
import { dateField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';

const SEARCH: SearchFields = {
  description: stringField([':', '~']),
  inserted_at: dateField(),
  name: stringField([':', '~', '-']),
  prn: prnField('artifact'),
  updated_at: dateField(),
};

async function getArtifact(ctx: RegistryContext, prn: string): Promise<ArtifactRow> {
  const row = await ctx.store.artifacts.find(ctx.org, idFromPathPrn(ctx, prn, 'artifact'));
  if (!row) throw notFound();
  return row;
}

export function artifactRoutes(ctx: RegistryContext): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/artifacts',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const name = requiredString(input, 'name', 128);
        const description = optionalString(input, 'description', 256, { allowControl: true }) ?? null;
        const metadata = optionalMetadata(input) ?? null;
        const id = optionalId(input) ?? randomUUID();
        const row = await ctx.store.transaction(async (tx) => {
          if (await tx.artifacts.nameTaken(ctx.org, name)) throw fieldError('name', 'has already been taken');
          if (await tx.artifacts.idTaken(id)) throw fieldError('id', 'has already been taken');
          const now = nowTimestamp();
          return tx.artifacts.insert({
            id,
            org: ctx.org,
            name,
            description,
            custom_metadata: metadata,
            inserted_at: now,
            updated_at: now,
          });
        });
        return { status: 201, body: { artifact: artifactJson(ctx, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/artifacts',
      auth: true,
      async handler({ query }) {
        const page = await listRows(ctx, query, ctx.store.artifacts, SEARCH);
        return {
          status: 200,
          body: { artifacts: page.rows.map((r) => artifactJson(ctx, r)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/artifacts/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { artifact: artifactJson(ctx, await getArtifact(ctx, params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/artifacts/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await getArtifact(ctx, params.prn!);
        const input = await body();
        const name = optionalString(input, 'name', 128);
        const description = optionalString(input, 'description', 256, { allowControl: true });
        const metadata = optionalMetadata(input);
        const row = await ctx.store.transaction(async (tx) => {
          if (name !== undefined && (await tx.artifacts.nameTaken(ctx.org, name, existing.id)))
            throw fieldError('name', 'has already been taken');
          return tx.artifacts.update(existing.id, {
            name,
            description,
            custom_metadata: metadata,
            updated_at: nowTimestamp(),
          });
        });
        return { status: 200, body: { artifact: artifactJson(ctx, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/artifacts/:prn',
      auth: true,
      async handler({ params }) {
        const existing = await getArtifact(ctx, params.prn!);
        await ctx.store.transaction(async (tx) => {
          if (await tx.artifacts.hasVersions(existing.id)) {
            throw fieldError('artifact', 'has artifact versions; delete them first');
          }
          await tx.artifacts.delete(existing.id);
        });
        return { status: 204 };
      },
    },
  ];
}
