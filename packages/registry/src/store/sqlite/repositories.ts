import type {
  ArtifactRow,
  ArtifactVersionRow,
  BinaryRow,
  PartRow,
  SignatureRow,
  SigningKeyRow,
} from '../rows.js';
import type { ContentGarbage, Repositories, SignatureWithKey } from '../store.js';
import type { Database } from './database.js';
import { table } from './table.js';

/**
 * The repositories over one node:sqlite connection. The methods are async only in signature: each runs its
 * statements synchronously, which is what lets SqliteStore serialise whole transactions with one lock.
 */
export function sqliteRepositories(db: Database): Repositories {
  const exists = (sql: string, ...params: (string | number)[]) => db.get(sql, ...params) !== undefined;
  const binaries = table<BinaryRow>(db, 'binaries');
  return {
    meta: {
      async get(key) {
        return db.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)?.value;
      },
      async setIfAbsent(key, value) {
        db.run('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)', key, value);
        return db.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)!.value;
      },
    },

    artifacts: {
      ...table<ArtifactRow>(db, 'artifacts'),
      nameTaken: async (org, name, exceptId = '') =>
        exists('SELECT 1 FROM artifacts WHERE org = ? AND name = ? AND id <> ?', org, name, exceptId),
      hasVersions: async (id) => exists('SELECT 1 FROM artifact_versions WHERE artifact_id = ?', id),
    },

    artifactVersions: {
      ...table<ArtifactVersionRow>(db, 'artifact_versions'),
      versionTaken: async (artifactId, version) =>
        exists('SELECT 1 FROM artifact_versions WHERE artifact_id = ? AND version = ?', artifactId, version),
    },

    binaries: {
      ...binaries,
      findLive: async (versionId, target) =>
        db.get<BinaryRow>(
          "SELECT * FROM binaries WHERE artifact_version_id = ? AND target = ? AND state <> 'destroyed'",
          versionId,
          target,
        ),
      hasLive: async (versionId) =>
        exists("SELECT 1 FROM binaries WHERE artifact_version_id = ? AND state <> 'destroyed'", versionId),
      insert: (row) => binaries.insert({ ...row, state: 'uploadable' }),
      // Transactions are serialised (SqliteStore): nothing else can change the row meanwhile.
      lock: async () => undefined,
      async transition(id, change, at) {
        switch (change.to) {
          case 'uploadable':
            db.run(
              `UPDATE binaries SET state = 'uploadable', blob_hash = NULL, hash_error = ?,
               upload_generation = upload_generation + 1, updated_at = ? WHERE id = ?`,
              change.hashError,
              at,
              id,
            );
            return true;
          case 'hashable':
            db.run(
              "UPDATE binaries SET state = 'hashable', hash_error = NULL, updated_at = ? WHERE id = ?",
              at,
              id,
            );
            return true;
          case 'signable':
            return (
              db.run(
                `UPDATE binaries SET state = 'signable', blob_hash = ?, hash_error = NULL, updated_at = ?
                 WHERE id = ? AND state = 'hashing' AND upload_generation = ?`,
                change.blobHash,
                at,
                id,
                change.generation,
              ).changes === 1
            );
          case 'destroyed':
            db.run(
              "UPDATE binaries SET state = 'destroyed', blob_hash = NULL, updated_at = ? WHERE id = ?",
              at,
              id,
            );
            return true;
          default:
            db.run('UPDATE binaries SET state = ?, updated_at = ? WHERE id = ?', change.to, at, id);
            return true;
        }
      },
      idsInState: async (state) =>
        db
          .all<{ id: string }>('SELECT id FROM binaries WHERE state = ? ORDER BY updated_at', state)
          .map((r) => r.id),
      blobReferenced: async (hash) => exists('SELECT 1 FROM binaries WHERE blob_hash = ?', hash),
    },

    parts: {
      list: async (binaryId) =>
        db.all<PartRow>('SELECT * FROM binary_parts WHERE binary_id = ? ORDER BY idx', binaryId),
      find: async (binaryId, idx) =>
        db.get<PartRow>('SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?', binaryId, idx),
      hasAfter: async (binaryId, idx) =>
        exists('SELECT 1 FROM binary_parts WHERE binary_id = ? AND idx > ?', binaryId, idx),
      async register(p) {
        const old = db.get<PartRow>(
          'SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?',
          p.binaryId,
          p.idx,
        );
        const keep = old?.hash === p.hash;
        if (old) {
          db.run(
            `UPDATE binary_parts SET hash = ?, size = ?, state = 'uploadable', file = ?, updated_at = ?
             WHERE binary_id = ? AND idx = ?`,
            p.hash,
            p.size,
            keep ? old.file : null,
            p.at,
            p.binaryId,
            p.idx,
          );
        } else {
          db.run(
            `INSERT INTO binary_parts (binary_id, idx, id, org, hash, size, state, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, 'uploadable', ?, ?)`,
            p.binaryId,
            p.idx,
            p.id,
            p.org,
            p.hash,
            p.size,
            p.at,
            p.at,
          );
        }
        const row = db.get<PartRow>(
          'SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?',
          p.binaryId,
          p.idx,
        )!;
        return { row, replacedFile: !keep && old?.file ? old.file : null };
      },
      async markValid(binaryId, idx, expect, file, at) {
        return (
          db.run(
            `UPDATE binary_parts SET state = 'valid', file = ?, updated_at = ?
             WHERE binary_id = ? AND idx = ? AND hash = ? AND size = ?
             AND (SELECT state FROM binaries WHERE id = ?) = 'uploadable'`,
            file,
            at,
            binaryId,
            idx,
            expect.hash,
            expect.size,
            binaryId,
          ).changes === 1
        );
      },
      async markRejected(binaryId, idx, expect, state, at) {
        return (
          db.run(
            `UPDATE binary_parts SET state = ?, updated_at = ?
             WHERE binary_id = ? AND idx = ? AND hash = ? AND size = ? AND state <> 'valid'
             AND (SELECT state FROM binaries WHERE id = ?) = 'uploadable'`,
            state,
            at,
            binaryId,
            idx,
            expect.hash,
            expect.size,
            binaryId,
          ).changes === 1
        );
      },
      async deleteAll(binaryId) {
        const files = db
          .all<{ file: string | null }>(
            'SELECT file FROM binary_parts WHERE binary_id = ? ORDER BY idx',
            binaryId,
          )
          .flatMap((r) => (r.file ? [r.file] : []));
        db.run('DELETE FROM binary_parts WHERE binary_id = ?', binaryId);
        return files;
      },
    },

    signingKeys: {
      ...table<SigningKeyRow>(db, 'signing_keys'),
      findByKeyid: async (org, keyid) =>
        db.get<SigningKeyRow>('SELECT * FROM signing_keys WHERE org = ? AND keyid = ?', org, keyid),
      findByKeyidPrefix: async (org, prefix) =>
        db.get<SigningKeyRow>(
          'SELECT * FROM signing_keys WHERE org = ? AND substr(keyid, 1, 16) = ? ORDER BY seq LIMIT 1',
          org,
          prefix,
        ),
      keyidTaken: async (org, keyid, exceptId = '') =>
        exists('SELECT 1 FROM signing_keys WHERE org = ? AND keyid = ? AND id <> ?', org, keyid, exceptId),
      inUse: async (id) => exists('SELECT 1 FROM binary_signatures WHERE signing_key_id = ?', id),
      soleSignerOf: async (id) =>
        db
          .all<{ id: string }>(
            `SELECT b.id FROM binaries b JOIN binary_signatures s ON s.binary_id = b.id
             WHERE s.signing_key_id = ? AND b.state = 'signed'
               AND (SELECT count(*) FROM binary_signatures o WHERE o.binary_id = b.id) = 1
             ORDER BY b.seq`,
            id,
          )
          .map((r) => r.id),
    },

    signatures: {
      ...table<SignatureRow>(db, 'binary_signatures'),
      findByKey: async (binaryId, keyId) =>
        db.get<SignatureRow>(
          'SELECT * FROM binary_signatures WHERE binary_id = ? AND signing_key_id = ?',
          binaryId,
          keyId,
        ),
      forBinary: async (binaryId) =>
        db.all(
          `SELECT s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
           JOIN signing_keys k ON k.id = s.signing_key_id WHERE s.binary_id = ? ORDER BY s.seq`,
          binaryId,
        ),
      async forBinaries(binaryIds) {
        const out = new Map<string, SignatureWithKey[]>(binaryIds.map((id) => [id, []]));
        if (binaryIds.length === 0) return out;
        const rows = db.all<SignatureWithKey & { binary_id: string }>(
          `SELECT s.binary_id, s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
           JOIN signing_keys k ON k.id = s.signing_key_id
           WHERE s.binary_id IN (${binaryIds.map(() => '?').join(', ')}) ORDER BY s.seq`,
          ...binaryIds,
        );
        for (const { binary_id, ...sig } of rows) out.get(binary_id)?.push(sig);
        return out;
      },
      count: async (binaryId) =>
        Number(
          db.get<{ n: number }>('SELECT count(*) AS n FROM binary_signatures WHERE binary_id = ?', binaryId)!
            .n,
        ),
      deleteByKey: async (keyId) => {
        db.run('DELETE FROM binary_signatures WHERE signing_key_id = ?', keyId);
      },
    },

    contentGarbage: {
      add: async (item, at) =>
        db.run('INSERT INTO content_garbage (item, inserted_at) VALUES (?, ?)', JSON.stringify(item), at)
          .lastId,
      pending: async () =>
        db
          .all<{ id: number; item: string }>('SELECT id, item FROM content_garbage ORDER BY id')
          .map((r) => ({ id: Number(r.id), item: JSON.parse(r.item) as ContentGarbage })),
      async done(id) {
        db.run('DELETE FROM content_garbage WHERE id = ?', id);
      },
    },

    leases: {
      async claim(key, owner, ttlMs) {
        const now = Date.now();
        return (
          db.run(
            `INSERT INTO leases (key, owner, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
             WHERE leases.expires_at < ? OR leases.owner = excluded.owner`,
            key,
            owner,
            now + ttlMs,
            now,
          ).changes === 1
        );
      },
      async release(key, owner) {
        db.run('DELETE FROM leases WHERE key = ? AND owner = ?', key, owner);
      },
    },

    multipartUploads: {
      get: async (binaryId, generation) =>
        db.get<{ upload_id: string }>(
          'SELECT upload_id FROM multipart_uploads WHERE binary_id = ? AND generation = ?',
          binaryId,
          generation,
        )?.upload_id,
      async setIfAbsent(binaryId, generation, uploadId, at) {
        db.run(
          'INSERT OR IGNORE INTO multipart_uploads (binary_id, generation, upload_id, inserted_at) VALUES (?, ?, ?, ?)',
          binaryId,
          generation,
          uploadId,
          at,
        );
        return db.get<{ upload_id: string }>(
          'SELECT upload_id FROM multipart_uploads WHERE binary_id = ? AND generation = ?',
          binaryId,
          generation,
        )!.upload_id;
      },
      async delete(binaryId, generation) {
        db.run('DELETE FROM multipart_uploads WHERE binary_id = ? AND generation = ?', binaryId, generation);
      },
    },
  };
}
