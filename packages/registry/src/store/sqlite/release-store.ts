import { randomUUID } from 'node:crypto';
import type { SQLInputValue } from 'node:sqlite';
import { fieldError } from '../../http.js';
import { listRows } from '../../list.js';
import { claimLimit, type PhaseLimit } from '../../releases/phase.js';
import type {
  BundleBinary,
  BundleRecord,
  BundleSignatureRecord,
  CohortRecord,
  DeviceRecord,
  EventRecord,
  Json,
  OverrideRecord,
  ProductRecord,
  ReleaseRecord,
  ReportedState,
} from '../../releases/types.js';
import { nowTimestamp } from '../../time.js';
import {
  TakenError,
  type NewEvent,
  type Page,
  type ReleasePlan,
  type ReleaseStore,
} from '../release-store.js';
import type { Database } from './database.js';
import { listFiltered } from './list.js';
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

/** A TEXT column's value (node:sqlite types every column as any SQL value). */
const text = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? v.toString() : '';

/**
 * ReleaseStore over the registry's node:sqlite database (tables of migration 3). SqliteStore makes it
 * (`releaseStore(org)`) over its own connection and runs each call under its lock, so a call never lands
 * inside another request's transaction; each method here is synchronous inside, hence atomic.
 */
/** One claimPhaseSlot call's arguments. */
export interface PhaseClaim {
  release: Pick<ReleaseRecord, 'id' | 'cohort_id'>;
  deviceId: string;
  limit: PhaseLimit;
  makeEvent: () => NewEvent;
}

/** Cohorts whose releases are kept between update checks, per database connection. */
const RELEASE_CACHE_COHORTS = 256;

/**
 * The releases of a cohort as last read. Every update check reads all of them, which was the largest part
 * of its cost once bundles were read lazily. Valid until this connection changes a release (only
 * withCohortReleases does; it drops the cache) or another connection commits anything (SQLite's
 * data_version changes then). Shared by every store on one connection, so a change through one is seen
 * by all.
 */
interface ReleaseCache {
  dataVersion: number | undefined;
  byCohort: Map<string, readonly Readonly<ReleaseRecord>[]>;
}
const releaseCaches = new WeakMap<Database, ReleaseCache>();

export class SqliteReleaseStore implements ReleaseStore {
  constructor(
    private readonly db: Database,
    private readonly org: string,
  ) {}

  private get releaseCache(): ReleaseCache {
    let cache = releaseCaches.get(this.db);
    if (!cache) releaseCaches.set(this.db, (cache = { dataVersion: undefined, byCohort: new Map() }));
    return cache;
  }

  private one(table: string, id: string): Row | undefined {
    return this.db.get<Row>(`SELECT * FROM ${table} WHERE id = ? AND org = ?`, id, this.org);
  }

  private async page<T>(
    query: URLSearchParams,
    table: string,
    map: (r: Row) => T,
    scope?: { sql: string; params: SQLInputValue[] },
  ): Promise<Page<T>> {
    const { fields, columns } = SEARCH[table]!;
    const repo = {
      list: async (q: Parameters<typeof listFiltered>[3]) =>
        listFiltered<Row & { seq: number }>(this.db, table, columns, q, scope),
    };
    const page = await listRows({ org: this.org }, query, repo, fields);
    return { items: page.rows.map(map), next_page: page.next_page };
  }

  // ---- products ----
  async createProduct(input: Pick<ProductRecord, 'name' | 'archived'>) {
    const id = randomUUID();
    const now = nowTimestamp();
    try {
      this.db.run(
        'INSERT INTO products (id, org, name, archived, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        id,
        this.org,
        input.name,
        input.archived ? 1 : 0,
        now,
        now,
      );
    } catch (err) {
      if (isUnique(err)) throw new TakenError('name');
      throw err;
    }
    return productOf(this.one('products', id)!);
  }
  async getProduct(id: string) {
    const r = this.one('products', id);
    return r && productOf(r);
  }
  async listProducts(query: URLSearchParams) {
    return this.page(query, 'products', productOf);
  }
  async updateProduct(id: string, patch: Partial<Pick<ProductRecord, 'name' | 'archived'>>) {
    try {
      this.db.run(
        'UPDATE products SET name = coalesce(?, name), archived = coalesce(?, archived), updated_at = ? WHERE id = ? AND org = ?',
        patch.name ?? null,
        patch.archived === undefined ? null : patch.archived ? 1 : 0,
        nowTimestamp(),
        id,
        this.org,
      );
    } catch (err) {
      if (isUnique(err)) throw new TakenError('name');
      throw err;
    }
    return productOf(this.one('products', id)!);
  }

  // ---- cohorts ----
  async createCohort(input: Pick<CohortRecord, 'product_id' | 'name' | 'description'>) {
    const id = randomUUID();
    const now = nowTimestamp();
    this.db.run(
      'INSERT INTO cohorts (id, org, product_id, name, description, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      id,
      this.org,
      input.product_id,
      input.name,
      input.description,
      now,
      now,
    );
    return cohortOf(this.one('cohorts', id)!);
  }
  async getCohort(id: string) {
    const r = this.one('cohorts', id);
    return r && cohortOf(r);
  }
  async listCohorts(query: URLSearchParams) {
    return this.page(query, 'cohorts', cohortOf);
  }
  async updateCohort(id: string, patch: Partial<Pick<CohortRecord, 'name' | 'description'>>) {
    const has = (k: string) => Object.prototype.hasOwnProperty.call(patch, k);
    this.db.run(
      `UPDATE cohorts SET name = coalesce(?, name), description = CASE WHEN ? THEN ? ELSE description END,
       updated_at = ? WHERE id = ? AND org = ?`,
      patch.name ?? null,
      has('description') ? 1 : 0,
      patch.description ?? null,
      nowTimestamp(),
      id,
      this.org,
    );
    return cohortOf(this.one('cohorts', id)!);
  }

  // ---- devices ----
  async createDevice(
    input: Omit<DeviceRecord, 'id' | 'inserted_at' | 'updated_at' | 'last_connected_at' | 'reported'>,
  ) {
    const id = randomUUID();
    const now = nowTimestamp();
    try {
      this.db.run(
        `INSERT INTO devices (id, org, product_id, cohort_id, identifier, description, quarantined, tags, target,
         inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        this.org,
        input.product_id,
        input.cohort_id,
        input.identifier,
        input.description,
        input.quarantined ? 1 : 0,
        input.tags === null ? null : JSON.stringify(input.tags),
        input.target,
        now,
        now,
      );
    } catch (err) {
      if (isUnique(err)) throw new TakenError('identifier');
      throw err;
    }
    return deviceOf(this.one('devices', id)!);
  }
  async getDevice(id: string) {
    const r = this.one('devices', id);
    return r && deviceOf(r);
  }
  async deviceForCheck(id: string) {
    const device = await this.getDevice(id);
    return device && { device, overrides: await this.overridesOfDevice(id), catalogVersion: undefined };
  }
  async listDevices(query: URLSearchParams) {
    return this.page(query, 'devices', deviceOf);
  }
  async updateDevice(
    id: string,
    patch: Partial<Pick<DeviceRecord, 'cohort_id' | 'description' | 'quarantined' | 'tags' | 'target'>>,
  ) {
    const current = deviceOf(this.one('devices', id)!);
    const next = { ...current, ...patch };
    this.db.run(
      `UPDATE devices SET cohort_id = ?, description = ?, quarantined = ?, tags = ?, target = ?, updated_at = ?
       WHERE id = ? AND org = ?`,
      next.cohort_id,
      next.description,
      next.quarantined ? 1 : 0,
      next.tags === null ? null : JSON.stringify(next.tags),
      next.target,
      nowTimestamp(),
      id,
      this.org,
    );
    return deviceOf(this.one('devices', id)!);
  }
  async reportDeviceState(
    id: string,
    reported: ReportedState,
    makeEvent: (previous: ReportedState) => NewEvent | undefined,
  ) {
    return this.db.transaction(() => {
      const previous = deviceOf(this.one('devices', id)!).reported;
      const now = nowTimestamp();
      this.db.run(
        `UPDATE devices SET reported_release_prn = ?, reported_bundle_prn = ?, reported_release_version = ?,
         last_connected_at = ?, updated_at = ? WHERE id = ? AND org = ?`,
        reported.release_prn,
        reported.bundle_prn,
        reported.release_version,
        now,
        now,
        id,
        this.org,
      );
      const event = makeEvent(previous);
      if (event) this.insertEvent(event);
      return { previous, device: deviceOf(this.one('devices', id)!) };
    });
  }

  // ---- bundles ----
  private bundleOf(r: Row): BundleRecord {
    const binaries = this.db
      .all<Row>(
        'SELECT binary_id, custom_metadata FROM bundle_binaries WHERE bundle_id = ? ORDER BY idx',
        text(r.id),
      )
      .map((b): BundleBinary => ({
        binary_id: text(b.binary_id),
        custom_metadata: JSON.parse(text(b.custom_metadata)) as Json,
      }));
    return {
      id: text(r.id),
      name: r.name === null ? null : text(r.name),
      hash: text(r.hash),
      binaries,
      inserted_at: text(r.inserted_at),
      updated_at: text(r.updated_at),
    };
  }
  async createBundle(input: Omit<BundleRecord, 'inserted_at' | 'updated_at'>) {
    return this.db.transaction(() => {
      const existing = this.db.get<Row>('SELECT * FROM bundles WHERE id = ?', input.id);
      if (existing) {
        if (text(existing.org) !== this.org) throw new TakenError('id');
        return { bundle: this.bundleOf(existing), created: false };
      }
      const now = nowTimestamp();
      this.db.run(
        'INSERT INTO bundles (id, org, name, hash, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        input.id,
        this.org,
        input.name,
        input.hash,
        now,
        now,
      );
      input.binaries.forEach((b, idx) =>
        this.db.run(
          'INSERT INTO bundle_binaries (bundle_id, idx, binary_id, custom_metadata) VALUES (?, ?, ?, ?)',
          input.id,
          idx,
          b.binary_id,
          JSON.stringify(b.custom_metadata),
        ),
      );
      return { bundle: this.bundleOf(this.one('bundles', input.id)!), created: true };
    });
  }
  async getBundle(id: string) {
    const r = this.one('bundles', id);
    return r && this.bundleOf(r);
  }
  async listBundles(query: URLSearchParams) {
    return this.page(query, 'bundles', (r) => this.bundleOf(r));
  }
  async updateBundle(id: string, patch: { name: string | null }) {
    this.db.run(
      'UPDATE bundles SET name = ?, updated_at = ? WHERE id = ? AND org = ?',
      patch.name,
      nowTimestamp(),
      id,
      this.org,
    );
    return this.bundleOf(this.one('bundles', id)!);
  }
  async deleteBundle(id: string) {
    return this.db.transaction(() => {
      const releases = this.db
        .all<Row>('SELECT id FROM releases WHERE bundle_id = ? ORDER BY seq', id)
        .map((r) => text(r.id));
      const overrides = this.db
        .all<Row>('SELECT id FROM bundle_overrides WHERE bundle_id = ? ORDER BY seq', id)
        .map((r) => text(r.id));
      if (releases.length || overrides.length) return { deleted: false as const, releases, overrides };
      this.db.run('DELETE FROM bundles WHERE id = ? AND org = ?', id, this.org);
      return { deleted: true as const };
    });
  }
  async releasesUsingBinary(binaryId: string) {
    return this.db
      .all<Row>(
        `SELECT r.* FROM releases r WHERE r.org = ? AND r.bundle_id IN
         (SELECT bundle_id FROM bundle_binaries WHERE binary_id = ?) ORDER BY r.seq`,
        this.org,
        binaryId,
      )
      .map(releaseOf);
  }

  // ---- bundle signatures ----
  async createBundleSignature(
    input: Pick<BundleSignatureRecord, 'bundle_id' | 'signing_key_id' | 'keyid' | 'signature'>,
  ) {
    return this.db.transaction(() => {
      const existing = this.db.get<Row>(
        'SELECT * FROM bundle_signatures WHERE bundle_id = ? AND signing_key_id = ?',
        input.bundle_id,
        input.signing_key_id,
      );
      if (existing) return { signature: signatureOf(existing), created: false };
      const id = randomUUID();
      const now = nowTimestamp();
      this.db.run(
        `INSERT INTO bundle_signatures (id, org, bundle_id, signing_key_id, keyid, signature, inserted_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        this.org,
        input.bundle_id,
        input.signing_key_id,
        input.keyid,
        input.signature,
        now,
        now,
      );
      return { signature: signatureOf(this.one('bundle_signatures', id)!), created: true };
    });
  }
  async getBundleSignature(id: string) {
    const r = this.one('bundle_signatures', id);
    return r && signatureOf(r);
  }
  async listBundleSignatures(query: URLSearchParams) {
    return this.page(query, 'bundle_signatures', signatureOf);
  }
  async signaturesOfBundle(bundleId: string) {
    return this.db
      .all<Row>(
        'SELECT * FROM bundle_signatures WHERE bundle_id = ? AND org = ? ORDER BY seq',
        bundleId,
        this.org,
      )
      .map(signatureOf);
  }
  async deleteBundleSignature(id: string) {
    return this.db.run('DELETE FROM bundle_signatures WHERE id = ? AND org = ?', id, this.org).changes > 0;
  }

  // ---- releases ----
  async getRelease(id: string) {
    const r = this.one('releases', id);
    return r && releaseOf(r);
  }
  async listReleases(query: URLSearchParams) {
    return this.page(query, 'releases', releaseOf);
  }
  async cohortReleases(cohortId: string) {
    const cache = this.releaseCache;
    const version = Number(this.db.get<{ data_version: number }>('PRAGMA data_version')!.data_version);
    if (version !== cache.dataVersion) {
      cache.byCohort.clear();
      cache.dataVersion = version;
    }
    const key = `${this.org}/${cohortId}`;
    let releases = cache.byCohort.get(key);
    if (!releases) {
      releases = this.db
        .all<Row>('SELECT * FROM releases WHERE cohort_id = ? AND org = ? ORDER BY seq', cohortId, this.org)
        .map((r) => Object.freeze(releaseOf(r)));
      if (cache.byCohort.size >= RELEASE_CACHE_COHORTS)
        cache.byCohort.delete(cache.byCohort.keys().next().value!);
      cache.byCohort.set(key, releases);
    }
    return [...releases];
  }
  private writeRelease(r: ReleaseRecord, insert: boolean) {
    const values: SQLInputValue[] = [
      r.cohort_id,
      r.bundle_id,
      r.name,
      r.description,
      r.required ? 1 : 0,
      r.disabled ? 1 : 0,
      r.schedule_date,
      r.phase_mode,
      r.phase_value,
      r.phase_tags === null ? null : JSON.stringify(r.phase_tags),
      r.version,
      r.version_requirement,
      r.next_release_id,
      r.updated_at,
    ];
    if (insert) {
      this.db.run(
        `INSERT INTO releases (cohort_id, bundle_id, name, description, required, disabled, schedule_date, phase_mode,
         phase_value, phase_tags, version, version_requirement, next_release_id, updated_at, id, org, inserted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...values,
        r.id,
        this.org,
        r.inserted_at,
      );
    } else {
      this.db.run(
        `UPDATE releases SET cohort_id = ?, bundle_id = ?, name = ?, description = ?, required = ?, disabled = ?,
         schedule_date = ?, phase_mode = ?, phase_value = ?, phase_tags = ?, version = ?, version_requirement = ?,
         next_release_id = ?, updated_at = ? WHERE id = ? AND org = ?`,
        ...values,
        r.id,
        this.org,
      );
    }
  }
  async withCohortReleases<T>(cohortId: string, plan: (releases: ReleaseRecord[]) => ReleasePlan<T>) {
    // Every change of a release record is made here: whatever it changed, committed or not, is re-read.
    this.releaseCache.byCohort.clear();
    // BEGIN IMMEDIATE takes SQLite's write lock before the read, so no other change interleaves.
    return this.db.transaction(() => {
      const releases = this.db
        .all<Row>('SELECT * FROM releases WHERE cohort_id = ? AND org = ? ORDER BY seq', cohortId, this.org)
        .map(releaseOf);
      const p = plan(releases);
      if (p.delete !== undefined) {
        for (const link of p.links) this.setNext(link.id, link.next_release_id);
        this.db.run('DELETE FROM releases WHERE id = ? AND org = ?', p.delete, this.org);
        return p.result;
      }
      // A new release goes in before links pointing at it; its own next is part of the record.
      if (p.create) this.writeRelease(p.create, true);
      if (p.update) this.writeRelease(p.update, false);
      const own = p.create?.id ?? p.update?.id;
      for (const link of p.links) if (link.id !== own) this.setNext(link.id, link.next_release_id);
      return p.result;
    });
  }
  private setNext(id: string, next: string | null) {
    this.db.run(
      'UPDATE releases SET next_release_id = ?, updated_at = ? WHERE id = ? AND org = ?',
      next,
      nowTimestamp(),
      id,
      this.org,
    );
  }

  // ---- overrides ----
  async createOverride(input: Omit<OverrideRecord, 'id' | 'inserted_at' | 'updated_at'>) {
    const id = randomUUID();
    const now = nowTimestamp();
    this.db.run(
      `INSERT INTO bundle_overrides (id, org, bundle_id, name, description, starts_at, ends_at, inserted_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      this.org,
      input.bundle_id,
      input.name,
      input.description,
      input.starts_at,
      input.ends_at,
      now,
      now,
    );
    return overrideOf(this.one('bundle_overrides', id)!);
  }
  async getOverride(id: string) {
    const r = this.one('bundle_overrides', id);
    return r && overrideOf(r);
  }
  async listOverrides(query: URLSearchParams) {
    return this.page(query, 'bundle_overrides', overrideOf);
  }
  async updateOverride(
    id: string,
    patch: Partial<Omit<OverrideRecord, 'id' | 'inserted_at' | 'updated_at'>>,
  ) {
    const next = { ...overrideOf(this.one('bundle_overrides', id)!), ...patch };
    this.db.run(
      `UPDATE bundle_overrides SET bundle_id = ?, name = ?, description = ?, starts_at = ?, ends_at = ?, updated_at = ?
       WHERE id = ? AND org = ?`,
      next.bundle_id,
      next.name,
      next.description,
      next.starts_at,
      next.ends_at,
      nowTimestamp(),
      id,
      this.org,
    );
    return overrideOf(this.one('bundle_overrides', id)!);
  }
  async deleteOverride(id: string) {
    return this.db.run('DELETE FROM bundle_overrides WHERE id = ? AND org = ?', id, this.org).changes > 0;
  }
  async addOverrideDevice(overrideId: string, deviceId: string) {
    return this.db.transaction(() => {
      const existing = this.db.get<Row>(
        'SELECT * FROM bundle_override_devices WHERE override_id = ? AND device_id = ?',
        overrideId,
        deviceId,
      );
      if (existing) return { device: overrideDeviceOf(existing), created: false };
      const now = nowTimestamp();
      this.db.run(
        'INSERT INTO bundle_override_devices (org, override_id, device_id, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        this.org,
        overrideId,
        deviceId,
        now,
        now,
      );
      const row = this.db.get<Row>(
        'SELECT * FROM bundle_override_devices WHERE override_id = ? AND device_id = ?',
        overrideId,
        deviceId,
      )!;
      return { device: overrideDeviceOf(row), created: true };
    });
  }
  async listOverrideDevices(overrideId: string, query: URLSearchParams) {
    if (query.get('search')) throw fieldError('search', 'is not supported on bundle override devices');
    return this.page(query, 'bundle_override_devices', overrideDeviceOf, {
      sql: 't.override_id = ?',
      params: [overrideId],
    });
  }
  async removeOverrideDevice(overrideId: string, deviceId: string) {
    return (
      this.db.run(
        'DELETE FROM bundle_override_devices WHERE override_id = ? AND device_id = ? AND org = ?',
        overrideId,
        deviceId,
        this.org,
      ).changes > 0
    );
  }
  async overridesOfDevice(deviceId: string) {
    return this.db
      .all<Row>(
        `SELECT o.* FROM bundle_overrides o JOIN bundle_override_devices d ON d.override_id = o.id
         WHERE d.device_id = ? AND o.org = ? ORDER BY o.seq`,
        deviceId,
        this.org,
      )
      .map(overrideOf);
  }

  // ---- phase claims ----
  private limitNow(release: Pick<ReleaseRecord, 'cohort_id'>, limit: PhaseLimit): number {
    if (limit.kind !== 'share') return claimLimit(limit, 0);
    const n = this.db.get<{ n: number }>(
      'SELECT count(*) AS n FROM devices WHERE cohort_id = ?',
      release.cohort_id,
    )!.n;
    return claimLimit(limit, Number(n));
  }
  async claimPhaseSlot(
    release: Pick<ReleaseRecord, 'id' | 'cohort_id'>,
    deviceId: string,
    limit: PhaseLimit,
    makeEvent: () => NewEvent,
  ) {
    return this.db.transaction(() => this.claimOne({ release, deviceId, limit, makeEvent }));
  }
  /**
   * Several claims in one transaction (one commit: SQLite's blocks the process for its fsync), in order,
   * each decided exactly as claimPhaseSlot decides it. SqliteStore groups concurrent claims into it.
   */
  async claimPhaseSlots(claims: PhaseClaim[]) {
    return this.db.transaction(() => claims.map((claim) => this.claimOne(claim)));
  }
  private claimOne({ release, deviceId, limit, makeEvent }: PhaseClaim) {
    if (
      this.db.get('SELECT 1 FROM release_claims WHERE release_id = ? AND device_id = ?', release.id, deviceId)
    ) {
      return { admitted: true, claimed: false };
    }
    const max = this.limitNow(release, limit);
    // The conditional increment is the claim: it cannot pass the limit however many checks run at once.
    const taken = this.db.run(
      'UPDATE releases SET claims = claims + 1 WHERE id = ? AND claims < ?',
      release.id,
      Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER,
    );
    if (taken.changes === 0) return { admitted: false, claimed: false };
    this.db.run(
      'INSERT INTO release_claims (release_id, device_id, inserted_at) VALUES (?, ?, ?)',
      release.id,
      deviceId,
      nowTimestamp(),
    );
    this.insertEvent(makeEvent());
    return { admitted: true, claimed: true };
  }
  async wouldAdmit(release: Pick<ReleaseRecord, 'id' | 'cohort_id'>, deviceId: string, limit: PhaseLimit) {
    if (
      this.db.get('SELECT 1 FROM release_claims WHERE release_id = ? AND device_id = ?', release.id, deviceId)
    )
      return true;
    const claims = Number(
      this.db.get<{ claims: number }>('SELECT claims FROM releases WHERE id = ?', release.id)?.claims ?? 0,
    );
    return claims < this.limitNow(release, limit);
  }

  // ---- events ----
  private insertEvent(event: NewEvent): EventRecord {
    const id = randomUUID();
    this.db.run(
      'INSERT INTO events (id, org, type, subtype, resource_prn, actor_prn, data, inserted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      id,
      this.org,
      event.type,
      event.subtype,
      event.resource_prn,
      event.actor_prn,
      JSON.stringify(event.data),
      nowTimestamp(),
    );
    return eventOf(this.one('events', id)!);
  }
  async appendEvent(event: NewEvent) {
    return this.insertEvent(event);
  }
  async listEvents(query: URLSearchParams) {
    const filters = eventFilters(query);
    const where = filters.map((f) => `${f.column} ${f.op} ?`);
    const params: SQLInputValue[] = filters.map((f) => f.value);
    return this.page(query, 'events', eventOf, { sql: where.length ? where.join(' AND ') : '1', params });
  }
}
