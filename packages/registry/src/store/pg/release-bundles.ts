import { randomUUID } from 'node:crypto';
import { fieldError } from '../../http.js';
import type { BundleRecord, BundleSignatureRecord, Json, OverrideRecord } from '../../releases/types.js';
import { nowTimestamp } from '../../time.js';
import { overrideDeviceOf, overrideOf, releaseOf, type Row, signatureOf } from '../release-rows.js';
import { TakenError } from '../release-store.js';
import type { Sql, Value } from './connection.js';
import { insertOrFind, PgReleaseTables } from './release-tables.js';

/**
 * Bundles, their signatures and bundle overrides on PostgreSQL (part of PgReleaseStore). A bundle id, a
 * signature per bundle and key, and a device per override are unique constraints: a create racing another
 * instance's finds the winner's row.
 */
export abstract class PgBundleStore extends PgReleaseTables {
  // ---- bundles ----
  /** The bundles of these rows with their binaries, in one query. */
  private async bundlesOf(sql: Sql, rows: Row[]): Promise<BundleRecord[]> {
    const ids = rows.map((r) => r.id as string);
    const binaries = ids.length
      ? await sql.all<{ bundle_id: string; binary_id: string; custom_metadata: string }>(
          `SELECT bundle_id, binary_id, custom_metadata FROM bundle_binaries WHERE bundle_id = ANY($1)
           ORDER BY bundle_id, idx`,
          [ids],
        )
      : [];
    return rows.map((r) => ({
      id: r.id as string,
      name: r.name as string | null,
      hash: r.hash as string,
      binaries: binaries
        .filter((b) => b.bundle_id === r.id)
        .map((b) => ({ binary_id: b.binary_id, custom_metadata: JSON.parse(b.custom_metadata) as Json })),
      inserted_at: r.inserted_at as string,
      updated_at: r.updated_at as string,
    }));
  }
  async createBundle(input: Omit<BundleRecord, 'inserted_at' | 'updated_at'>) {
    return this.db.sqlTransaction(async (sql) => {
      const now = nowTimestamp();
      const { row, created } = await insertOrFind(
        sql,
        [
          `INSERT INTO bundles (id, org, name, hash, inserted_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO NOTHING RETURNING *`,
          [input.id, this.org, input.name, input.hash, now, now],
        ],
        ['SELECT * FROM bundles WHERE id = $1', [input.id]],
      );
      if (!created && row.org !== this.org) throw new TakenError('id');
      if (created && input.binaries.length) {
        const params: Value[] = [input.id];
        const values = input.binaries.map((b, idx) => {
          params.push(idx, b.binary_id, JSON.stringify(b.custom_metadata));
          const n = params.length;
          return `($1, $${n - 2}::integer, $${n - 1}, $${n})`;
        });
        await sql.run(
          `INSERT INTO bundle_binaries (bundle_id, idx, binary_id, custom_metadata) VALUES ${values.join(', ')}`,
          params,
        );
      }
      return { bundle: (await this.bundlesOf(sql, [row]))[0]!, created };
    });
  }
  async getBundle(id: string) {
    const r = await this.one(this.db.sql, 'bundles', id);
    return r && (await this.bundlesOf(this.db.sql, [r]))[0];
  }
  async listBundles(query: URLSearchParams) {
    const page = await this.rows(query, 'bundles');
    return { items: await this.bundlesOf(this.db.sql, page.items), next_page: page.next_page };
  }
  async updateBundle(id: string, patch: { name: string | null }) {
    const row = await this.db.sql.get<Row>(
      'UPDATE bundles SET name = $1, updated_at = $2 WHERE id = $3 AND org = $4 RETURNING *',
      [patch.name, nowTimestamp(), id, this.org],
    );
    return (await this.bundlesOf(this.db.sql, [row!]))[0]!;
  }
  async deleteBundle(id: string) {
    return this.db.sqlTransaction(async (sql) => {
      // FOR UPDATE waits for transactions that reference the bundle (their foreign-key check holds KEY
      // SHARE), so a release or override committed meanwhile is seen below; later ones fail their check.
      await this.one(sql, 'bundles', id, 'FOR UPDATE');
      const ids = async (table: string) =>
        (
          await sql.all<{ id: string }>(`SELECT id FROM ${table} WHERE bundle_id = $1 ORDER BY seq`, [id])
        ).map((r) => r.id);
      const releases = await ids('releases');
      const overrides = await ids('bundle_overrides');
      if (releases.length || overrides.length) return { deleted: false as const, releases, overrides };
      await sql.run('DELETE FROM bundles WHERE id = $1 AND org = $2', [id, this.org]);
      return { deleted: true as const };
    });
  }
  async releasesUsingBinary(binaryId: string) {
    const rows = await this.db.sql.all<Row>(
      `SELECT r.* FROM releases r WHERE r.org = $1 AND r.bundle_id IN
       (SELECT bundle_id FROM bundle_binaries WHERE binary_id = $2) ORDER BY r.seq`,
      [this.org, binaryId],
    );
    return rows.map(releaseOf);
  }

  // ---- bundle signatures ----
  async createBundleSignature(
    input: Pick<BundleSignatureRecord, 'bundle_id' | 'signing_key_id' | 'keyid' | 'signature'>,
  ) {
    const now = nowTimestamp();
    const { row, created } = await this.db.sqlTransaction((sql) =>
      insertOrFind(
        sql,
        [
          `INSERT INTO bundle_signatures (id, org, bundle_id, signing_key_id, keyid, signature, inserted_at,
           updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (bundle_id, signing_key_id) DO NOTHING RETURNING *`,
          [
            randomUUID(),
            this.org,
            input.bundle_id,
            input.signing_key_id,
            input.keyid,
            input.signature,
            now,
            now,
          ],
        ],
        [
          'SELECT * FROM bundle_signatures WHERE bundle_id = $1 AND signing_key_id = $2',
          [input.bundle_id, input.signing_key_id],
        ],
      ),
    );
    return { signature: signatureOf(row), created };
  }
  async getBundleSignature(id: string) {
    const r = await this.one(this.db.sql, 'bundle_signatures', id);
    return r && signatureOf(r);
  }
  async listBundleSignatures(query: URLSearchParams) {
    return this.page(query, 'bundle_signatures', signatureOf);
  }
  async signaturesOfBundle(bundleId: string) {
    const rows = await this.db.sql.all<Row>(
      'SELECT * FROM bundle_signatures WHERE bundle_id = $1 AND org = $2 ORDER BY seq',
      [bundleId, this.org],
    );
    return rows.map(signatureOf);
  }
  async deleteBundleSignature(id: string) {
    return (
      (await this.db.sql.run('DELETE FROM bundle_signatures WHERE id = $1 AND org = $2', [id, this.org])) > 0
    );
  }

  // ---- overrides ----
  async createOverride(input: Omit<OverrideRecord, 'id' | 'inserted_at' | 'updated_at'>) {
    const now = nowTimestamp();
    const row = await this.db.sql.get<Row>(
      `INSERT INTO bundle_overrides (id, org, bundle_id, name, description, starts_at, ends_at, inserted_at,
       updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        randomUUID(),
        this.org,
        input.bundle_id,
        input.name,
        input.description,
        input.starts_at,
        input.ends_at,
        now,
        now,
      ],
    );
    return overrideOf(row!);
  }
  async getOverride(id: string) {
    const r = await this.one(this.db.sql, 'bundle_overrides', id);
    return r && overrideOf(r);
  }
  async listOverrides(query: URLSearchParams) {
    return this.page(query, 'bundle_overrides', overrideOf);
  }
  async updateOverride(
    id: string,
    patch: Partial<Omit<OverrideRecord, 'id' | 'inserted_at' | 'updated_at'>>,
  ) {
    return this.db.sqlTransaction(async (sql) => {
      const next = { ...overrideOf((await this.one(sql, 'bundle_overrides', id, 'FOR UPDATE'))!), ...patch };
      const row = await sql.get<Row>(
        `UPDATE bundle_overrides SET bundle_id = $1, name = $2, description = $3, starts_at = $4, ends_at = $5,
         updated_at = $6 WHERE id = $7 AND org = $8 RETURNING *`,
        [
          next.bundle_id,
          next.name,
          next.description,
          next.starts_at,
          next.ends_at,
          nowTimestamp(),
          id,
          this.org,
        ],
      );
      return overrideOf(row!);
    });
  }
  async deleteOverride(id: string) {
    return (
      (await this.db.sql.run('DELETE FROM bundle_overrides WHERE id = $1 AND org = $2', [id, this.org])) > 0
    );
  }
  async addOverrideDevice(overrideId: string, deviceId: string) {
    const now = nowTimestamp();
    const { row, created } = await this.db.sqlTransaction((sql) =>
      insertOrFind(
        sql,
        [
          `INSERT INTO bundle_override_devices (org, override_id, device_id, inserted_at, updated_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (override_id, device_id) DO NOTHING RETURNING *`,
          [this.org, overrideId, deviceId, now, now],
        ],
        [
          'SELECT * FROM bundle_override_devices WHERE override_id = $1 AND device_id = $2',
          [overrideId, deviceId],
        ],
      ),
    );
    return { device: overrideDeviceOf(row), created };
  }
  async listOverrideDevices(overrideId: string, query: URLSearchParams) {
    if (query.get('search')) throw fieldError('search', 'is not supported on bundle override devices');
    return this.page(
      query,
      'bundle_override_devices',
      overrideDeviceOf,
      (param) => `t.override_id = ${param(overrideId)}`,
    );
  }
  async removeOverrideDevice(overrideId: string, deviceId: string) {
    const removed = await this.db.sql.run(
      'DELETE FROM bundle_override_devices WHERE override_id = $1 AND device_id = $2 AND org = $3',
      [overrideId, deviceId, this.org],
    );
    return removed > 0;
  }
  async overridesOfDevice(deviceId: string) {
    const rows = await this.db.sql.all<Row>(
      `SELECT o.* FROM bundle_overrides o JOIN bundle_override_devices d ON d.override_id = o.id
       WHERE d.device_id = $1 AND o.org = $2 ORDER BY o.seq`,
      [deviceId, this.org],
    );
    return rows.map(overrideOf);
  }
}
