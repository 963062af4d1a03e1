import { randomUUID } from 'node:crypto';
import type { RegistryContext } from '../context.js';
import {
  idFromPathPrn,
  optionalId,
  optionalMetadata,
  optionalString,
  requiredBodyPrn,
  requiredString,
} from '../fields.js';
import { fieldError, notFound } from '../http.js';
import { listRows } from '../list.js';
import { artifactVersionJson } from '../records.js';
import type { Route } from '../router.js';
import type { ArtifactVersionRow } from '../store/rows.js';
import { dateField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';

const SEARCH: SearchFields = {
  artifact_prn: prnField('artifact'),
  description: stringField([':', '~']),
  inserted_at: dateField(),
  prn: prnField('artifact_version'),
  updated_at: dateField(),
  version: stringField([':', '~', '-']),
};

async function getVersion(ctx: RegistryContext, prn: string): Promise<ArtifactVersionRow> {
  const row = await ctx.store.artifactVersions.find(ctx.org, idFromPathPrn(ctx, prn, 'artifact_version'));
  if (!row) throw notFound();
  return row;
}

export function artifactVersionRoutes(ctx: RegistryContext): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/artifact_versions',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const artifactId = requiredBodyPrn(ctx, input, 'artifact_prn', 'artifact');
        const version = requiredString(input, 'version', 128);
        const description = optionalString(input, 'description', 256, { allowControl: true }) ?? null;
        const metadata = optionalMetadata(input) ?? null;
        const id = optionalId(input) ?? randomUUID();
        const row = await ctx.store.transaction(async (tx) => {
          if (!(await tx.artifacts.find(ctx.org, artifactId)))
            throw notFound(`artifact_prn ${String(input.artifact_prn)}`);
          if (await tx.artifactVersions.versionTaken(artifactId, version))
            throw fieldError('version', 'has already been taken');
          if (await tx.artifactVersions.idTaken(id)) throw fieldError('id', 'has already been taken');
          const now = nowTimestamp();
          return tx.artifactVersions.insert({
            id,
            org: ctx.org,
            artifact_id: artifactId,
            version,
            description,
            custom_metadata: metadata,
            inserted_at: now,
            updated_at: now,
          });
        });
        return { status: 201, body: { artifact_version: artifactVersionJson(ctx, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/artifact_versions',
      auth: true,
      async handler({ query }) {
        const page = await listRows(ctx, query, ctx.store.artifactVersions, SEARCH);
        return {
          status: 200,
          body: {
            artifact_versions: page.rows.map((r) => artifactVersionJson(ctx, r)),
            next_page: page.next_page,
          },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/artifact_versions/:prn',
      auth: true,
      async handler({ params }) {
        return {
          status: 200,
          body: { artifact_version: artifactVersionJson(ctx, await getVersion(ctx, params.prn!)) },
        };
      },
    },
    {
      method: 'PATCH',
      pattern: '/artifact_versions/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await getVersion(ctx, params.prn!);
        const input = await body();
        const version = optionalString(input, 'version', 128);
        if (version !== undefined && version !== existing.version)
          throw fieldError('version', 'cannot be changed');
        const description = optionalString(input, 'description', 256, { allowControl: true });
        const metadata = optionalMetadata(input);
        const row = await ctx.store.artifactVersions.update(existing.id, {
          description,
          custom_metadata: metadata,
          updated_at: nowTimestamp(),
        });
        return { status: 200, body: { artifact_version: artifactVersionJson(ctx, row) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/artifact_versions/:prn',
      auth: true,
      async handler({ params }) {
        const existing = await getVersion(ctx, params.prn!);
        await ctx.store.transaction(async (tx) => {
          if (await tx.binaries.hasLive(existing.id))
            throw fieldError(
              'artifact_version',
              'has binaries that are not destroyed; destroy or delete them first',
            );
          // Destroyed binaries hold no content; their records (and signatures) go with the version.
          await tx.artifactVersions.delete(existing.id);
        });
        return { status: 204 };
      },
    },
  ];
}
