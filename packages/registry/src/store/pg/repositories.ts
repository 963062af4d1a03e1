import type {
  ArtifactRow,
  ArtifactVersionRow,
  BinaryRow,
  PartRow,
  SignatureRow,
  SigningKeyRow,
} from '../rows.js';
import type { COLUMNS } from '../sqlite/list.js';
import type { ContentGarbage, ListQuery, Page, Repositories, SignatureWithKey } from '../store.js';
import type { Sql, Value } from './connection.js';
import { listTable } from './list.js';

/** The record operations every table keyed by a UUID `id` shares. */
function table<T>(sql: Sql, name: keyof typeof COLUMNS) {
  return {
    list: (query: ListQuery): Promise<Page<T>> => listTable<T>(sql, name, query),
    find: (org: string, id: string) =>
      sql.get<T>(`SELECT * FROM ${name} WHERE id = $1 AND org = $2`, [id, org]),
    idTaken: async (id: string) => (await sql.get(`SELECT 1 FROM ${name} WHERE id = $1`, [id])) !== undefined,
    async insert(row: object): Promise<T> {
      const entries = Object.entries(row) as [string, Value][];
      return (await sql.get<T>(
        `INSERT INTO ${name} (${entries.map(([k]) => k).join(', ')})
         VALUES (${entries.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
        entries.map(([, v]) => v),
      ))!;
    },
    async update(id: string, changes: object): Promise<T> {
      const entries = (Object.entries(changes) as [string, Value | undefined][]).filter(
        ([, v]) => v !== undefined,
      );
      return (await sql.get<T>(
        `UPDATE ${name} SET ${entries.map(([k], i) => `${k} = $${i + 2}`).join(', ')} WHERE id = $1 RETURNING *`,
        [id, ...entries.map(([, v]) => v!)],
      ))!;
    },
    async delete(id: string): Promise<void> {
      await sql.run(`DELETE FROM ${name} WHERE id = $1`, [id]);
    },
  };
}

/**
 * The repositories over the pool (each call on its own) or one transaction's connection. Rules that must
 * hold across instances are the database's: unique indexes (one live binary per target, one version per
 * artifact, one keyid per organization), conditional updates (signable only for the generation being
 * hashed, valid only while uploadable), and `lock` (a row lock a binary's changes take first).
 */
export function pgRepositories(sql: Sql): Repositories {
  const exists = async (text: string, params: Value[]) => (await sql.get(text, params)) !== undefined;
  const binaries = table<BinaryRow>(sql, 'binaries');
  return {
    meta: {
      get: async (key) =>
        (await sql.get<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]))?.value,
      async setIfAbsent(key, value) {
        await sql.run('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
          key,
          value,
        ]);
        return (await sql.get<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]))!.value;
      },
    },

    artifacts: {
      ...table<ArtifactRow>(sql, 'artifacts'),
      nameTaken: (org, name, exceptId = '') =>
        exists('SELECT 1 FROM artifacts WHERE org = $1 AND name = $2 AND id <> $3', [org, name, exceptId]),
      hasVersions: (id) => exists('SELECT 1 FROM artifact_versions WHERE artifact_id = $1', [id]),
    },

    artifactVersions: {
      ...table<ArtifactVersionRow>(sql, 'artifact_versions'),
      versionTaken: (artifactId, version) =>
        exists('SELECT 1 FROM artifact_versions WHERE artifact_id = $1 AND version = $2', [
          artifactId,
          version,
        ]),
    },

    binaries: {
      ...binaries,
      findLive: (versionId, target) =>
        sql.get<BinaryRow>(
          "SELECT * FROM binaries WHERE artifact_version_id = $1 AND target = $2 AND state <> 'destroyed'",
          [versionId, target],
        ),
      hasLive: (versionId) =>
        exists("SELECT 1 FROM binaries WHERE artifact_version_id = $1 AND state <> 'destroyed'", [versionId]),
      insert: (row) => binaries.insert({ ...row, state: 'uploadable' }),
      async lock(id) {
        await sql.run('SELECT 1 FROM binaries WHERE id = $1 FOR UPDATE', [id]);
      },
      async transition(id, change, at) {
        switch (change.to) {
          case 'uploadable':
            await sql.run(
              `UPDATE binaries SET state = 'uploadable', blob_hash = NULL, hash_error = $2,
               upload_generation = upload_generation + 1, updated_at = $3 WHERE id = $1`,
              [id, change.hashError, at],
            );
            return true;
          case 'hashable':
            await sql.run(
              "UPDATE binaries SET state = 'hashable', hash_error = NULL, updated_at = $2 WHERE id = $1",
              [id, at],
            );
            return true;
          case 'signable':
            return (
              (await sql.run(
                `UPDATE binaries SET state = 'signable', blob_hash = $2, hash_error = NULL, updated_at = $3
                 WHERE id = $1 AND state = 'hashing' AND upload_generation = $4`,
                [id, change.blobHash, at, change.generation],
              )) === 1
            );
          case 'destroyed':
            await sql.run(
              "UPDATE binaries SET state = 'destroyed', blob_hash = NULL, updated_at = $2 WHERE id = $1",
              [id, at],
            );
            return true;
          default:
            await sql.run('UPDATE binaries SET state = $2, updated_at = $3 WHERE id = $1', [
              id,
              change.to,
              at,
            ]);
            return true;
        }
      },
      idsInState: async (state) =>
        (
          await sql.all<{ id: string }>('SELECT id FROM binaries WHERE state = $1 ORDER BY updated_at', [
            state,
          ])
        ).map((r) => r.id),
      blobReferenced: (hash) => exists('SELECT 1 FROM binaries WHERE blob_hash = $1', [hash]),
    },

    parts: {
      list: (binaryId) =>
        sql.all<PartRow>('SELECT * FROM binary_parts WHERE binary_id = $1 ORDER BY idx', [binaryId]),
      find: (binaryId, idx) =>
        sql.get<PartRow>('SELECT * FROM binary_parts WHERE binary_id = $1 AND idx = $2', [binaryId, idx]),
      hasAfter: (binaryId, idx) =>
        exists('SELECT 1 FROM binary_parts WHERE binary_id = $1 AND idx > $2', [binaryId, idx]),
      async register(p) {
        const old = await sql.get<PartRow>(
          'SELECT * FROM binary_parts WHERE binary_id = $1 AND idx = $2 FOR UPDATE',
          [p.binaryId, p.idx],
        );
        // The stored content stays attached only when the hash is the same (see the interface).
        const row = (await sql.get<PartRow>(
          `INSERT INTO binary_parts (binary_id, idx, id, org, hash, size, state, inserted_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'uploadable', $7, $7)
           ON CONFLICT (binary_id, idx) DO UPDATE SET hash = excluded.hash, size = excluded.size,
             state = 'uploadable', updated_at = excluded.updated_at,
             file = CASE WHEN binary_parts.hash = excluded.hash THEN binary_parts.file END
           RETURNING *`,
          [p.binaryId, p.idx, p.id, p.org, p.hash, p.size, p.at],
        ))!;
        const keep = old?.hash === p.hash;
        return { row, replacedFile: !keep && old?.file ? old.file : null };
      },
      async markValid(binaryId, idx, expect, file, at) {
        return (
          (await sql.run(
            `UPDATE binary_parts SET state = 'valid', file = $3, updated_at = $4
             WHERE binary_id = $1 AND idx = $2 AND hash = $5 AND size = $6
             AND (SELECT state FROM binaries WHERE id = $1) = 'uploadable'`,
            [binaryId, idx, file, at, expect.hash, expect.size],
          )) === 1
        );
      },
      async markRejected(binaryId, idx, expect, state, at) {
        return (
          (await sql.run(
            `UPDATE binary_parts SET state = $3, updated_at = $4
             WHERE binary_id = $1 AND idx = $2 AND hash = $5 AND size = $6 AND state <> 'valid'
             AND (SELECT state FROM binaries WHERE id = $1) = 'uploadable'`,
            [binaryId, idx, state, at, expect.hash, expect.size],
          )) === 1
        );
      },
      async deleteAll(binaryId) {
        const rows = await sql.all<{ idx: number; file: string | null }>(
          'DELETE FROM binary_parts WHERE binary_id = $1 RETURNING idx, file',
          [binaryId],
        );
        return rows.sort((a, b) => a.idx - b.idx).flatMap((r) => (r.file ? [r.file] : []));
      },
    },

    signingKeys: {
      ...table<SigningKeyRow>(sql, 'signing_keys'),
      findByKeyid: (org, keyid) =>
        sql.get<SigningKeyRow>('SELECT * FROM signing_keys WHERE org = $1 AND keyid = $2', [org, keyid]),
      findByKeyidPrefix: (org, prefix) =>
        sql.get<SigningKeyRow>(
          'SELECT * FROM signing_keys WHERE org = $1 AND substr(keyid, 1, 16) = $2 ORDER BY seq LIMIT 1',
          [org, prefix],
        ),
      keyidTaken: (org, keyid, exceptId = '') =>
        exists('SELECT 1 FROM signing_keys WHERE org = $1 AND keyid = $2 AND id <> $3', [
          org,
          keyid,
          exceptId,
        ]),
      inUse: (id) => exists('SELECT 1 FROM binary_signatures WHERE signing_key_id = $1', [id]),
      soleSignerOf: async (id) =>
        (
          await sql.all<{ id: string }>(
            `SELECT b.id FROM binaries b JOIN binary_signatures s ON s.binary_id = b.id
             WHERE s.signing_key_id = $1 AND b.state = 'signed'
               AND (SELECT count(*) FROM binary_signatures o WHERE o.binary_id = b.id) = 1
             ORDER BY b.seq`,
            [id],
          )
        ).map((r) => r.id),
    },

    signatures: {
      ...table<SignatureRow>(sql, 'binary_signatures'),
      findByKey: (binaryId, keyId) =>
        sql.get<SignatureRow>(
          'SELECT * FROM binary_signatures WHERE binary_id = $1 AND signing_key_id = $2',
          [binaryId, keyId],
        ),
      forBinary: (binaryId) =>
        sql.all(
          `SELECT s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
           JOIN signing_keys k ON k.id = s.signing_key_id WHERE s.binary_id = $1 ORDER BY s.seq`,
          [binaryId],
        ),
      deleteByKey: async (keyId) => {
        await sql.run('DELETE FROM binary_signatures WHERE signing_key_id = $1', [keyId]);
      },
      async forBinaries(binaryIds) {
        const out = new Map<string, SignatureWithKey[]>(binaryIds.map((id) => [id, []]));
        if (binaryIds.length === 0) return out;
        const rows = await sql.all<SignatureWithKey & { binary_id: string }>(
          `SELECT s.binary_id, s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
           JOIN signing_keys k ON k.id = s.signing_key_id WHERE s.binary_id = ANY($1) ORDER BY s.seq`,
          [binaryIds],
        );
        for (const { binary_id, ...sig } of rows) out.get(binary_id)?.push(sig);
        return out;
      },
      count: async (binaryId) =>
        (await sql.get<{ n: number }>(
          'SELECT count(*)::int AS n FROM binary_signatures WHERE binary_id = $1',
          [binaryId],
        ))!.n,
    },

    contentGarbage: {
      add: async (item, at) =>
        (await sql.get<{ id: number }>(
          'INSERT INTO content_garbage (item, inserted_at) VALUES ($1, $2) RETURNING id',
          [JSON.stringify(item), at],
        ))!.id,
      pending: async () =>
        (await sql.all<{ id: number; item: string }>('SELECT id, item FROM content_garbage ORDER BY id')).map(
          (r) => ({
            id: r.id,
            item: JSON.parse(r.item) as ContentGarbage,
          }),
        ),
      async done(id) {
        await sql.run('DELETE FROM content_garbage WHERE id = $1', [id]);
      },
    },

    leases: {
      // One statement: of two instances claiming at once, the unique key lets exactly one insert or update.
      claim: async (key, owner, ttlMs) =>
        (await sql.run(
          `INSERT INTO leases (key, owner, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
           ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
           WHERE leases.expires_at < now() OR leases.owner = excluded.owner`,
          [key, owner, ttlMs],
        )) === 1,
      async release(key, owner) {
        await sql.run('DELETE FROM leases WHERE key = $1 AND owner = $2', [key, owner]);
      },
    },

    multipartUploads: {
      get: async (binaryId, generation) =>
        (
          await sql.get<{ upload_id: string }>(
            'SELECT upload_id FROM multipart_uploads WHERE binary_id = $1 AND generation = $2',
            [binaryId, generation],
          )
        )?.upload_id,
      async setIfAbsent(binaryId, generation, uploadId, at) {
        await sql.run(
          `INSERT INTO multipart_uploads (binary_id, generation, upload_id, inserted_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (binary_id, generation) DO NOTHING`,
          [binaryId, generation, uploadId, at],
        );
        return (await sql.get<{ upload_id: string }>(
          'SELECT upload_id FROM multipart_uploads WHERE binary_id = $1 AND generation = $2',
          [binaryId, generation],
        ))!.upload_id;
      },
      async delete(binaryId, generation) {
        await sql.run('DELETE FROM multipart_uploads WHERE binary_id = $1 AND generation = $2', [
          binaryId,
          generation,
        ]);
      },
    },
  };
}
