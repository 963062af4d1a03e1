import { randomUUID } from 'node:crypto';
import type { RegistryContext } from '../context.js';
import { idFromPathPrn, optionalId, optionalMetadata, optionalString, requiredString } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import { listRows } from '../list.js';
import { artifactJson } from '../records.js';
import type { Route } from '../router.js';
import type { ArtifactRow } from '../rows.js';
import { dateField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';

const SEARCH: SearchFields = {
  description: stringField('t.description', [':', '~']),
  inserted_at: dateField('t.inserted_at'),
  name: stringField('t.name', [':', '~', '-']),
  prn: prnField('t.id', 'artifact'),
  updated_at: dateField('t.updated_at'),
};

export function findArtifact(ctx: RegistryContext, id: string): ArtifactRow | undefined {
  return ctx.db.get<ArtifactRow>('SELECT * FROM artifacts WHERE id = ? AND org = ?', id, ctx.org);
}

function getArtifact(ctx: RegistryContext, prn: string): ArtifactRow {
  const row = findArtifact(ctx, idFromPathPrn(ctx, prn, 'artifact'));
  if (!row) throw notFound();
  return row;
}

function assertNameFree(ctx: RegistryContext, name: string, exceptId?: string) {
  const clash = ctx.db.get(
    'SELECT id FROM artifacts WHERE org = ? AND name = ? AND id <> ?',
    ctx.org,
    name,
    exceptId ?? '',
  );
  if (clash) throw fieldError('name', 'has already been taken');
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
        const row = ctx.db.transaction(() => {
          assertNameFree(ctx, name);
          if (ctx.db.get('SELECT 1 FROM artifacts WHERE id = ?', id))
            throw fieldError('id', 'has already been taken');
          const now = nowTimestamp();
          ctx.db.run(
            `INSERT INTO artifacts (id, org, name, description, custom_metadata, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
            id,
            ctx.org,
            name,
            description,
            metadata,
            now,
            now,
          );
          return findArtifact(ctx, id)!;
        });
        return { status: 201, body: { artifact: artifactJson(ctx, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/artifacts',
      auth: true,
      handler({ query }) {
        const page = listRows<ArtifactRow>(ctx, query, 'artifacts', SEARCH);
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
      handler({ params }) {
        return { status: 200, body: { artifact: artifactJson(ctx, getArtifact(ctx, params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/artifacts/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = getArtifact(ctx, params.prn!);
        const input = await body();
        const name = optionalString(input, 'name', 128);
        const description = optionalString(input, 'description', 256, { allowControl: true });
        const metadata = optionalMetadata(input);
        const row = ctx.db.transaction(() => {
          if (name !== undefined) assertNameFree(ctx, name, existing.id);
          ctx.db.run(
            `UPDATE artifacts SET name = coalesce(?, name), description = coalesce(?, description),
             custom_metadata = coalesce(?, custom_metadata), updated_at = ? WHERE id = ?`,
            name ?? null,
            description ?? null,
            metadata ?? null,
            nowTimestamp(),
            existing.id,
          );
          return findArtifact(ctx, existing.id)!;
        });
        return { status: 200, body: { artifact: artifactJson(ctx, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/artifacts/:prn',
      auth: true,
      handler({ params }) {
        const existing = getArtifact(ctx, params.prn!);
        ctx.db.transaction(() => {
          if (ctx.db.get('SELECT 1 FROM artifact_versions WHERE artifact_id = ?', existing.id)) {
            throw fieldError('artifact', 'has artifact versions; delete them first');
          }
          ctx.db.run('DELETE FROM artifacts WHERE id = ?', existing.id);
        });
        return { status: 204 };
      },
    },
  ];
}
