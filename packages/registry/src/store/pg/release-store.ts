import { randomUUID } from 'node:crypto';
import { fieldError } from '../../http.js';
import { listRows } from '../../list.js';
import type { PhaseLimit } from '../../releases/phase.js';
import type {
  BundleRecord,
  BundleSignatureRecord,
  CohortRecord,
  DeviceRecord,
  Json,
  OverrideRecord,
  ProductRecord,
  ReleaseRecord,
  ReportedState,
} from '../../releases/types.js';
import { nowTimestamp } from '../../time.js';
import {
  cohortOf,
  deviceOf,
  eventFilters,
  eventOf,
  isUnique,
  overrideDeviceOf,
  overrideOf,
  productOf,
  releaseOf,
  type Row,
  SEARCH,
  signatureOf,
} from '../release-rows.js';
import {
  TakenError,
  type NewEvent,
  type Page,
  type ReleasePlan,
  type ReleaseStore,
} from '../release-store.js';
import type { ListQuery } from '../store.js';
import type { Sql, Value } from './connection.js';
import { listFiltered } from './list.js';
import * as graph from './release-graph.js';
import type { PgDatabase } from './release-graph.js';

/** A unique violation of `fn` as the TakenError naming the field, as the SQLite store raises it. */
async function unique<T>(field: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUnique(err)) throw new TakenError(field);
    throw err;
  }
}

/**
 * Inserts with `ON CONFLICT DO NOTHING RETURNING *`, or finds the row that was there: a concurrent insert of
 * the same key (another instance) is waited for, and then found. Found nothing either (the row was deleted
 * between the two statements): tried again.
 */
async function insertOrFind(
  sql: Sql,
  insert: [string, Value[]],
  find: [string, Value[]],
): Promise<{ row: Row; created: boolean }> {
  for (;;) {
    const row = await sql.get<Row>(...insert);
    if (row) return { row, created: true };
    const existing = await sql.get<Row>(...find);
    if (existing) return { row: existing, created: false };
  }
}

const jsonOrNull = (v: unknown) => (v === null ? null : JSON.stringify(v));

/**
 * ReleaseStore over PostgreSQL (tables of PG_MIGRATIONS' release-management entry), for several instances
 * on one database. A method of one statement runs it on the pool (a statement is its own transaction);
 * one of several runs them in one `sqlTransaction` (retried on deadlock or serialization failure), taking
 * the row lock of what it reads before it writes. Unique rules are constraints; the counting operations are
 * in release-graph.ts.
 */
export class PgReleaseStore implements ReleaseStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly org: string,
  ) {}

  private one(sql: Sql, table: string, id: string, lock = ''): Promise<Row | undefined> {
    return sql.get<Row>(`SELECT * FROM ${table} WHERE id = $1 AND org = $2 ${lock}`, [id, this.org]);
  }

  private async rows(
    query: URLSearchParams,
    table: string,
    scope?: Parameters<typeof listFiltered>[4],
  ): Promise<Page<Row>> {
    const { fields, columns } = SEARCH[table]!;
    const repo = {
      list: (q: ListQuery) => listFiltered<Row & { seq: number }>(this.db.sql, table, columns, q, scope),
    };
    const page = await listRows({ org: this.org }, query, repo, fields);
    return { items: page.rows, next_page: page.next_page };
  }

  private async page<T>(
    query: URLSearchParams,
    table: string,
    map: (r: Row) => T,
    scope?: Parameters<typeof listFiltered>[4],
  ): Promise<Page<T>> {
    const page = await this.rows(query, table, scope);
    return { items: page.items.map(map), next_page: page.next_page };
  }

  // ---- products ----
  async createProduct(input: Pick<ProductRecord, 'name' | 'archived'>) {
    const now = nowTimestamp();
    const row = await unique('name', () =>
      this.db.sql.get<Row>(
        `INSERT INTO products (id, org, name, archived, inserted_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING *`,
        [randomUUID(), this.org, input.name, input.archived, now, now],
      ),
    );
    return productOf(row!);
  }
  async getProduct(id: string) {
    const r = await this.one(this.db.sql, 'products', id);
    return r && productOf(r);
  }
  async listProducts(query: URLSearchParams) {
    return this.page(query, 'products', productOf);
  }
  async updateProduct(id: string, patch: Partial<Pick<ProductRecord, 'name' | 'archived'>>) {
    const row = await unique('name', () =>
      this.db.sql.get<Row>(
        `UPDATE products SET name = coalesce($1, name), archived = coalesce($2, archived), updated_at = $3
         WHERE id = $4 AND org = $5 RETURNING *`,
        [patch.name ?? null, patch.archived ?? null, nowTimestamp(), id, this.org],
      ),
    );
    return productOf(row!);
  }

  // ---- cohorts ----
  async createCohort(input: Pick<CohortRecord, 'product_id' | 'name' | 'description'>) {
    const now = nowTimestamp();
    const row = await this.db.sql.get<Row>(
      `INSERT INTO cohorts (id, org, product_id, name, description, inserted_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [randomUUID(), this.org, input.product_id, input.name, input.description, now, now],
    );
    return cohortOf(row!);
  }
  async getCohort(id: string) {
    const r = await this.one(this.db.sql, 'cohorts', id);
    return r && cohortOf(r);
  }
  async listCohorts(query: URLSearchParams) {
    return this.page(query, 'cohorts', cohortOf);
  }
  async updateCohort(id: string, patch: Partial<Pick<CohortRecord, 'name' | 'description'>>) {
    const row = await this.db.sql.get<Row>(
      `UPDATE cohorts SET name = coalesce($1, name), description = CASE WHEN $2 THEN $3 ELSE description END,
       updated_at = $4 WHERE id = $5 AND org = $6 RETURNING *`,
      [
        patch.name ?? null,
        Object.prototype.hasOwnProperty.call(patch, 'description'),
        patch.description ?? null,
        nowTimestamp(),
        id,
        this.org,
      ],
    );
    return cohortOf(row!);
  }

  // ---- devices ----
  async createDevice(
    input: Omit<DeviceRecord, 'id' | 'inserted_at' | 'updated_at' | 'last_connected_at' | 'reported'>,
  ) {
    const now = nowTimestamp();
    const row = await unique('identifier', () =>
      this.db.sql.get<Row>(
        `INSERT INTO devices (id, org, product_id, cohort_id, identifier, description, quarantined, tags, target,
         inserted_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
        [
          randomUUID(),
          this.org,
          input.product_id,
          input.cohort_id,
          input.identifier,
          input.description,
          input.quarantined,
          jsonOrNull(input.tags),
          input.target,
          now,
          now,
        ],
      ),
    );
    return deviceOf(row!);
  }
  async getDevice(id: string) {
    const r = await this.one(this.db.sql, 'devices', id);
    return r && deviceOf(r);
  }
  async listDevices(query: URLSearchParams) {
    return this.page(query, 'devices', deviceOf);
  }
  async updateDevice(
    id: string,
    patch: Partial<Pick<DeviceRecord, 'cohort_id' | 'description' | 'quarantined' | 'tags' | 'target'>>,
  ) {
    return this.db.sqlTransaction(async (sql) => {
      // Locked, so a concurrent patch of other fields is applied after this one, not overwritten by it.
      const next = { ...deviceOf((await this.one(sql, 'devices', id, 'FOR UPDATE'))!), ...patch };
      const row = await sql.get<Row>(
        `UPDATE devices SET cohort_id = $1, description = $2, quarantined = $3, tags = $4, target = $5,
         updated_at = $6 WHERE id = $7 AND org = $8 RETURNING *`,
        [
          next.cohort_id,
          next.description,
          next.quarantined,
          jsonOrNull(next.tags),
          next.target,
          nowTimestamp(),
          id,
          this.org,
        ],
      );
      return deviceOf(row!);
    });
  }
  async reportDeviceState(
    id: string,
    reported: ReportedState,
    makeEvent: (previous: ReportedState) => NewEvent | undefined,
  ) {
    return this.db.sqlTransaction(async (sql) => {
      // Locked: two reports of one device at once each see the other's triple as their previous one.
      const previous = deviceOf((await this.one(sql, 'devices', id, 'FOR UPDATE'))!).reported;
      const now = nowTimestamp();
      const row = await sql.get<Row>(
        `UPDATE devices SET reported_release_prn = $1, reported_bundle_prn = $2, reported_release_version = $3,
         last_connected_at = $4, updated_at = $4 WHERE id = $5 AND org = $6 RETURNING *`,
        [reported.release_prn, reported.bundle_prn, reported.release_version, now, id, this.org],
      );
      const event = makeEvent(previous);
      if (event) await graph.insertEvent(sql, this.org, event);
      return { previous, device: deviceOf(row!) };
    });
  }

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

  // ---- releases ----
  async getRelease(id: string) {
    const r = await this.one(this.db.sql, 'releases', id);
    return r && releaseOf(r);
  }
  async listReleases(query: URLSearchParams) {
    return this.page(query, 'releases', releaseOf);
  }
  async cohortReleases(cohortId: string) {
    return graph.cohortReleases(this.db.sql, this.org, cohortId);
  }
  async withCohortReleases<T>(cohortId: string, plan: (releases: ReleaseRecord[]) => ReleasePlan<T>) {
    return graph.withCohortReleases(this.db, this.org, cohortId, plan);
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

  // ---- phase claims ----
  async claimPhaseSlot(
    release: Pick<ReleaseRecord, 'id' | 'cohort_id'>,
    deviceId: string,
    limit: PhaseLimit,
    makeEvent: () => NewEvent,
  ) {
    return graph.claimPhaseSlot(this.db, this.org, release, deviceId, limit, makeEvent);
  }
  async wouldAdmit(release: Pick<ReleaseRecord, 'id' | 'cohort_id'>, deviceId: string, limit: PhaseLimit) {
    return graph.wouldAdmit(this.db, release, deviceId, limit);
  }

  // ---- events ----
  async appendEvent(event: NewEvent) {
    return graph.insertEvent(this.db.sql, this.org, event);
  }
  async listEvents(query: URLSearchParams) {
    const filters = eventFilters(query);
    return this.page(query, 'events', eventOf, (param) =>
      filters.length ? filters.map((f) => `${f.column} ${f.op} ${param(f.value)}`).join(' AND ') : 'true',
    );
  }
}
