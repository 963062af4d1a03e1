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
import type { ArtifactVersionRow } from '../rows.js';
import { dateField, prnField, stringField, type SearchFields } from '../search.js';
import { nowTimestamp } from '../time.js';
import { findArtifact } from './artifacts.js';

const SEARCH: SearchFields = {
  artifact_prn: prnField('t.artifact_id', 'artifact'),
  description: stringField('t.description', [':', '~']),
  inserted_at: dateField('t.inserted_at'),
  prn: prnField('t.id', 'artifact_version'),
  updated_at: dateField('t.updated_at'),
  version: stringField('t.version', [':', '~', '-']),
};

export function findArtifactVersion(ctx: RegistryContext, id: string): ArtifactVersionRow | undefined {
  return ctx.db.get<ArtifactVersionRow>(
    'SELECT * FROM artifact_versions WHERE id = ? AND org = ?',
    id,
    ctx.org,
  );
}

function getVersion(ctx: RegistryContext, prn: string): ArtifactVersionRow {
  const row = findArtifactVersion(ctx, idFromPathPrn(ctx, prn, 'artifact_version'));
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
        const row = ctx.db.transaction(() => {
          if (!findArtifact(ctx, artifactId)) throw notFound(`artifact_prn ${String(input.artifact_prn)}`);
          if (
            ctx.db.get(
              'SELECT 1 FROM artifact_versions WHERE artifact_id = ? AND version = ?',
              artifactId,
              version,
            )
          ) {
            throw fieldError('version', 'has already been taken');
          }
          if (ctx.db.get('SELECT 1 FROM artifact_versions WHERE id = ?', id))
            throw fieldError('id', 'has already been taken');
          const now = nowTimestamp();
          ctx.db.run(
            `INSERT INTO artifact_versions (id, org, artifact_id, version, description, custom_metadata, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
            id,
            ctx.org,
            artifactId,
            version,
            description,
            metadata,
            now,
            now,
          );
          return findArtifactVersion(ctx, id)!;
        });
        return { status: 201, body: { artifact_version: artifactVersionJson(ctx, row) } };
      },
    },
    {
      method: 'GET',
      pattern: '/artifact_versions',
      auth: true,
      handler({ query }) {
        const page = listRows<ArtifactVersionRow>(ctx, query, 'artifact_versions', SEARCH);
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
      handler({ params }) {
        return {
          status: 200,
          body: { artifact_version: artifactVersionJson(ctx, getVersion(ctx, params.prn!)) },
        };
      },
    },
    {
      method: 'PATCH',
      pattern: '/artifact_versions/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = getVersion(ctx, params.prn!);
        const input = await body();
        const version = optionalString(input, 'version', 128);
        if (version !== undefined && version !== existing.version)
          throw fieldError('version', 'cannot be changed');
        const description = optionalString(input, 'description', 256, { allowControl: true });
        const metadata = optionalMetadata(input);
        ctx.db.run(
          `UPDATE artifact_versions SET description = coalesce(?, description),
           custom_metadata = coalesce(?, custom_metadata), updated_at = ? WHERE id = ?`,
          description ?? null,
          metadata ?? null,
          nowTimestamp(),
          existing.id,
        );
        return {
          status: 200,
          body: { artifact_version: artifactVersionJson(ctx, findArtifactVersion(ctx, existing.id)!) },
        };
      },
    },
    {
      method: 'DELETE',
      pattern: '/artifact_versions/:prn',
      auth: true,
      handler({ params }) {
        const existing = getVersion(ctx, params.prn!);
        ctx.db.transaction(() => {
          const live = ctx.db.get(
            "SELECT 1 FROM binaries WHERE artifact_version_id = ? AND state <> 'destroyed'",
            existing.id,
          );
          if (live)
            throw fieldError(
              'artifact_version',
              'has binaries that are not destroyed; destroy or delete them first',
            );
          // Destroyed binaries hold no content; their records (and signatures) go with the version.
          ctx.db.run('DELETE FROM artifact_versions WHERE id = ?', existing.id);
        });
        return { status: 204 };
      },
    },
  ];
}
