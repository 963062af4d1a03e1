import type {
  ArtifactRow,
  ArtifactVersionRow,
  BinaryRow,
  PartRow,
  SignatureRow,
  SigningKeyRow,
} from '../rows.js';
import type { ContentGarbage, Repositories } from '../store.js';
import type { Database } from './database.js';
import { listTable } from './list.js';

/**
 * The repositories over one node:sqlite connection. The methods are async only in signature: each runs its
 * statements synchronously, which is what lets SqliteStore serialise whole transactions with one lock.
 */
export function sqliteRepositories(db: Database): Repositories {
  const exists = (sql: string, ...params: (string | number)[]) => db.get(sql, ...params) !== undefined;
  const set = (changes: Record<string, unknown>) => {
    const keys = Object.keys(changes).filter((k) => changes[k] !== undefined);
    return {
      sql: keys.map((k) => `${k} = ?`).join(', '),
      params: keys.map((k) => changes[k] as string | number | null),
    };
  };
  const update = (table: string, id: string, changes: Record<string, unknown>) => {
    const s = set(changes);
    db.run(`UPDATE ${table} SET ${s.sql} WHERE id = ?`, ...s.params, id);
  };
  const insert = (table: string, row: Record<string, unknown>) => {
    const keys = Object.keys(row);
    db.run(
      `INSERT INTO ${table} (${keys.join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`,
      ...keys.map((k) => row[k] as string | number | null),
    );
  };
  const byId = <T>(table: string, id: string) => db.get<T>(`SELECT * FROM ${table} WHERE id = ?`, id)!;
  const inOrg = <T>(table: string, org: string, id: string) =>
    db.get<T>(`SELECT * FROM ${table} WHERE id = ? AND org = ?`, id, org);

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
      list: async (q) => listTable<ArtifactRow>(db, 'artifacts', q),
      find: async (org, id) => inOrg<ArtifactRow>('artifacts', org, id),
      idTaken: async (id) => exists('SELECT 1 FROM artifacts WHERE id = ?', id),
      nameTaken: async (org, name, exceptId = '') =>
        exists('SELECT 1 FROM artifacts WHERE org = ? AND name = ? AND id <> ?', org, name, exceptId),
      async insert(row) {
        insert('artifacts', row);
        return byId<ArtifactRow>('artifacts', row.id);
      },
      async update(id, changes) {
        update('artifacts', id, changes);
        return byId<ArtifactRow>('artifacts', id);
      },
      hasVersions: async (id) => exists('SELECT 1 FROM artifact_versions WHERE artifact_id = ?', id),
      async delete(id) {
        db.run('DELETE FROM artifacts WHERE id = ?', id);
      },
    },

    artifactVersions: {
      list: async (q) => listTable<ArtifactVersionRow>(db, 'artifact_versions', q),
      find: async (org, id) => inOrg<ArtifactVersionRow>('artifact_versions', org, id),
      idTaken: async (id) => exists('SELECT 1 FROM artifact_versions WHERE id = ?', id),
      versionTaken: async (artifactId, version) =>
        exists('SELECT 1 FROM artifact_versions WHERE artifact_id = ? AND version = ?', artifactId, version),
      async insert(row) {
        insert('artifact_versions', row);
        return byId<ArtifactVersionRow>('artifact_versions', row.id);
      },
      async update(id, changes) {
        update('artifact_versions', id, changes);
        return byId<ArtifactVersionRow>('artifact_versions', id);
      },
      async delete(id) {
        db.run('DELETE FROM artifact_versions WHERE id = ?', id);
      },
    },

    binaries: {
      list: async (q) => listTable<BinaryRow>(db, 'binaries', q),
      find: async (org, id) => inOrg<BinaryRow>('binaries', org, id),
      idTaken: async (id) => exists('SELECT 1 FROM binaries WHERE id = ?', id),
      findLive: async (versionId, target) =>
        db.get<BinaryRow>(
          "SELECT * FROM binaries WHERE artifact_version_id = ? AND target = ? AND state <> 'destroyed'",
          versionId,
          target,
        ),
      hasLive: async (versionId) =>
        exists("SELECT 1 FROM binaries WHERE artifact_version_id = ? AND state <> 'destroyed'", versionId),
      async insert(row) {
        insert('binaries', { ...row, state: 'uploadable' });
        return byId<BinaryRow>('binaries', row.id);
      },
      async update(id, changes) {
        update('binaries', id, changes);
        return byId<BinaryRow>('binaries', id);
      },
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
      async delete(id) {
        db.run('DELETE FROM binaries WHERE id = ?', id);
      },
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
      list: async (q) => listTable<SigningKeyRow>(db, 'signing_keys', q),
      find: async (org, id) => inOrg<SigningKeyRow>('signing_keys', org, id),
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
      async insert(row) {
        insert('signing_keys', row);
        return byId<SigningKeyRow>('signing_keys', row.id);
      },
      async update(id, changes) {
        update('signing_keys', id, changes);
        return byId<SigningKeyRow>('signing_keys', id);
      },
      inUse: async (id) => exists('SELECT 1 FROM binary_signatures WHERE signing_key_id = ?', id),
      async delete(id) {
        db.run('DELETE FROM signing_keys WHERE id = ?', id);
      },
    },

    signatures: {
      list: async (q) => listTable<SignatureRow>(db, 'binary_signatures', q),
      find: async (org, id) => inOrg<SignatureRow>('binary_signatures', org, id),
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
      count: async (binaryId) =>
        Number(
          db.get<{ n: number }>('SELECT count(*) AS n FROM binary_signatures WHERE binary_id = ?', binaryId)!
            .n,
        ),
      async insert(row) {
        insert('binary_signatures', row);
        return byId<SignatureRow>('binary_signatures', row.id);
      },
      async delete(id) {
        db.run('DELETE FROM binary_signatures WHERE id = ?', id);
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
  };
}
