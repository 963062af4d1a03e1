import type { LinkChange } from '../releases/graph.js';
import type { PhaseLimit } from '../releases/phase.js';
import type {
  BundleRecord,
  BundleSignatureRecord,
  CohortRecord,
  DeviceRecord,
  EventRecord,
  OverrideDeviceRecord,
  OverrideRecord,
  ProductRecord,
  ReleaseRecord,
  ReportedState,
} from '../releases/types.js';

/**
 * Persistence of release management, as domain operations. The SQLite implementation is sqlite-store.ts;
 * another database implements the same methods with the same atomicity: each method is one transaction,
 * and the two counting operations (claimPhaseSlot, withCohortReleases) must hold under concurrent callers
 * without an in-process lock (a conditional update or a row lock, never read-then-write).
 *
 * List methods take the request's query (`limit`, `order`, `search`, `page`, plus the event filters) and
 * answer one page with an opaque `next_page`; an unsupported search or a bad cursor is a 422 naming it.
 * Every method is scoped to the store's organization.
 */
export interface Page<T> {
  items: T[];
  next_page: string | null;
}

/** A unique field that is already taken, e.g. a product name or a device identifier. */
export class TakenError extends Error {
  constructor(readonly field: string) {
    super(`${field} has already been taken`);
  }
}

export type NewEvent = Omit<EventRecord, 'id' | 'inserted_at'>;

/** What one change to a cohort's release graph does, computed from the cohort's releases in the transaction. */
export interface ReleasePlan<T> {
  create?: ReleaseRecord;
  update?: ReleaseRecord;
  delete?: string;
  links: LinkChange[];
  result: T;
}

interface DeviceForCheck {
  device: DeviceRecord;
  overrides: OverrideRecord[];
  /**
   * A number that grows with every committed change to what an update check reads of the catalog (cohorts,
   * releases apart from their claims, bundles, binaries and their signatures), read before any of it: it
   * tells whether what was read at an earlier number may be used again (releases/catalog-cache.ts).
   * Undefined where the store has none (SQLite: its reads are in-process and cheap), so all is read again.
   */
  catalogVersion: number | undefined;
}

export interface ReleaseStore {
  createProduct(input: Pick<ProductRecord, 'name' | 'archived'>): Promise<ProductRecord>;
  getProduct(id: string): Promise<ProductRecord | undefined>;
  listProducts(query: URLSearchParams): Promise<Page<ProductRecord>>;
  updateProduct(id: string, patch: Partial<Pick<ProductRecord, 'name' | 'archived'>>): Promise<ProductRecord>;

  createCohort(input: Pick<CohortRecord, 'product_id' | 'name' | 'description'>): Promise<CohortRecord>;
  getCohort(id: string): Promise<CohortRecord | undefined>;
  listCohorts(query: URLSearchParams): Promise<Page<CohortRecord>>;
  updateCohort(id: string, patch: Partial<Pick<CohortRecord, 'name' | 'description'>>): Promise<CohortRecord>;

  createDevice(
    input: Omit<DeviceRecord, 'id' | 'inserted_at' | 'updated_at' | 'last_connected_at' | 'reported'>,
  ): Promise<DeviceRecord>;
  getDevice(id: string): Promise<DeviceRecord | undefined>;
  /** What an update check reads first, in one round trip where the store has them (PostgreSQL). */
  deviceForCheck(id: string): Promise<DeviceForCheck | undefined>;
  listDevices(query: URLSearchParams): Promise<Page<DeviceRecord>>;
  updateDevice(
    id: string,
    patch: Partial<Pick<DeviceRecord, 'cohort_id' | 'description' | 'quarantined' | 'tags' | 'target'>>,
  ): Promise<DeviceRecord>;
  /**
   * Records the triple a device reported, all three columns at once, and appends the event `makeEvent`
   * builds from the previous triple (if any) in the same transaction.
   */
  reportDeviceState(
    id: string,
    reported: ReportedState,
    makeEvent: (previous: ReportedState) => NewEvent | undefined,
  ): Promise<{ previous: ReportedState; device: DeviceRecord }>;

  /** A bundle with this id already exists → it is returned with `created: false` and nothing changes. */
  createBundle(
    input: Omit<BundleRecord, 'inserted_at' | 'updated_at'>,
  ): Promise<{ bundle: BundleRecord; created: boolean }>;
  getBundle(id: string): Promise<BundleRecord | undefined>;
  listBundles(query: URLSearchParams): Promise<Page<BundleRecord>>;
  updateBundle(id: string, patch: { name: string | null }): Promise<BundleRecord>;
  /** Deletes unless a release or override uses it; then nothing changes and their ids come back. */
  deleteBundle(
    id: string,
  ): Promise<{ deleted: true } | { deleted: false; releases: string[]; overrides: string[] }>;
  /** Releases whose bundle contains the binary (for the warning when the binary is destroyed). */
  releasesUsingBinary(binaryId: string): Promise<ReleaseRecord[]>;

  /** The same bundle and key again → the existing signature with `created: false`. */
  createBundleSignature(
    input: Pick<BundleSignatureRecord, 'bundle_id' | 'signing_key_id' | 'keyid' | 'signature'>,
  ): Promise<{ signature: BundleSignatureRecord; created: boolean }>;
  getBundleSignature(id: string): Promise<BundleSignatureRecord | undefined>;
  listBundleSignatures(query: URLSearchParams): Promise<Page<BundleSignatureRecord>>;
  signaturesOfBundle(bundleId: string): Promise<BundleSignatureRecord[]>;
  deleteBundleSignature(id: string): Promise<boolean>;

  getRelease(id: string): Promise<ReleaseRecord | undefined>;
  listReleases(query: URLSearchParams): Promise<Page<ReleaseRecord>>;
  cohortReleases(cohortId: string): Promise<ReleaseRecord[]>;
  /**
   * Runs `plan` over the cohort's releases inside one transaction that excludes concurrent changes to that
   * cohort's graph, then applies what it returns. `plan` is pure and may throw to refuse (nothing changes).
   */
  withCohortReleases<T>(cohortId: string, plan: (releases: ReleaseRecord[]) => ReleasePlan<T>): Promise<T>;

  createOverride(input: Omit<OverrideRecord, 'id' | 'inserted_at' | 'updated_at'>): Promise<OverrideRecord>;
  getOverride(id: string): Promise<OverrideRecord | undefined>;
  listOverrides(query: URLSearchParams): Promise<Page<OverrideRecord>>;
  updateOverride(
    id: string,
    patch: Partial<Omit<OverrideRecord, 'id' | 'inserted_at' | 'updated_at'>>,
  ): Promise<OverrideRecord>;
  deleteOverride(id: string): Promise<boolean>;
  addOverrideDevice(
    overrideId: string,
    deviceId: string,
  ): Promise<{ device: OverrideDeviceRecord; created: boolean }>;
  listOverrideDevices(overrideId: string, query: URLSearchParams): Promise<Page<OverrideDeviceRecord>>;
  removeOverrideDevice(overrideId: string, deviceId: string): Promise<boolean>;
  overridesOfDevice(deviceId: string): Promise<OverrideRecord[]>;

  /**
   * Claims one of a phased release's slots for a device, atomically: a device that already claimed it is
   * admitted again (`claimed: false`); otherwise it is admitted only while fewer devices than the limit
   * (counted now, against the cohort's device count for a share) have claimed it. A new claim appends
   * `makeEvent()` (device.claimed_release) in the same transaction.
   */
  claimPhaseSlot(
    release: Pick<ReleaseRecord, 'id' | 'cohort_id'>,
    deviceId: string,
    limit: PhaseLimit,
    makeEvent: () => NewEvent,
  ): Promise<{ admitted: boolean; claimed: boolean }>;
  /** Whether claimPhaseSlot would admit the device, without claiming. */
  wouldAdmit(
    release: Pick<ReleaseRecord, 'id' | 'cohort_id'>,
    deviceId: string,
    limit: PhaseLimit,
  ): Promise<boolean>;

  appendEvent(event: NewEvent): Promise<EventRecord>;
  /** Filters: `type`, `subtype`, `resource_prn`, `actor_prn`, `inserted_at_lt`, `inserted_at_gte`. */
  listEvents(query: URLSearchParams): Promise<Page<EventRecord>>;
}
