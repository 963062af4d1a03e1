import { randomUUID } from 'node:crypto';
import type { PhaseLimit } from '../../releases/phase.js';
import type {
  CohortRecord,
  DeviceRecord,
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
  overrideOf,
  productOf,
  releaseOf,
  type Row,
} from '../release-rows.js';
import type { NewEvent, ReleasePlan, ReleaseStore } from '../release-store.js';
import { PgBundleStore } from './release-bundles.js';
import * as graph from './release-graph.js';
import { insertEvent, jsonOrNull, unique } from './release-tables.js';

/**
 * ReleaseStore over PostgreSQL (tables of PG_MIGRATIONS' release-management entry), for several instances
 * on one database. A method of one statement runs it on the pool (a statement is its own transaction);
 * one of several runs them in one `sqlTransaction` (retried on deadlock or serialization failure), taking
 * the row lock of what it reads before it writes. Unique rules are constraints; bundles, signatures and
 * overrides are in release-bundles.ts, the release graph and phase claims in release-graph.ts.
 */
export class PgReleaseStore extends PgBundleStore implements ReleaseStore {
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
  async deviceForCheck(id: string) {
    // One round trip instead of three: under a fleet's checks the registry's cost is mostly its queries.
    const r = await this.db.sql.get<Row>(
      `SELECT d.*, (SELECT n FROM catalog_version) AS catalog_version,
         (SELECT coalesce(json_agg(o ORDER BY o.seq), '[]') FROM bundle_overrides o
            JOIN bundle_override_devices od ON od.override_id = o.id
           WHERE od.device_id = d.id AND o.org = d.org) AS overrides
       FROM devices d WHERE d.id = $1 AND d.org = $2`,
      [id, this.org],
    );
    if (!r) return undefined;
    const { catalog_version, overrides, ...device } = r;
    return {
      device: deviceOf(device),
      overrides: (overrides as Row[]).map(overrideOf),
      catalogVersion: Number(catalog_version),
    };
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
      if (event) await insertEvent(sql, this.org, event);
      return { previous, device: deviceOf(row!) };
    });
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
    return insertEvent(this.db.sql, this.org, event);
  }
  async listEvents(query: URLSearchParams) {
    const filters = eventFilters(query);
    return this.page(query, 'events', eventOf, (param) =>
      filters.length ? filters.map((f) => `${f.column} ${f.op} ${param(f.value)}`).join(' AND ') : 'true',
    );
  }
}
