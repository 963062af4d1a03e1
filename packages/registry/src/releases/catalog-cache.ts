import type { BinaryInfo, BinaryLookup } from './binary-lookup.js';
import type { ReleaseStore } from '../store/release-store.js';
import type { BundleRecord, CohortRecord, ReleaseRecord } from './types.js';

/** What an update check reads of the catalog, besides the device's own rows. */
export interface CatalogReads {
  getCohort(id: string): Promise<CohortRecord | undefined>;
  cohortReleases(cohortId: string): Promise<ReleaseRecord[]>;
  getBundle(id: string): Promise<BundleRecord | undefined>;
  binary(id: string): Promise<BinaryInfo | undefined>;
}

type Source = Pick<ReleaseStore, 'getCohort' | 'cohortReleases' | 'getBundle'>;

/** A cache that grows past this many reads is dropped and refilled: the catalog a fleet checks is far smaller. */
const MAX_ENTRIES = 50_000;

/**
 * The catalog reads of update checks, kept from one check to the next while the store's catalog version
 * (DeviceForCheck.catalogVersion) stays the same. On PostgreSQL a check otherwise made ~17 round trips for
 * rows that change a few times a day (measured: 401 checks/s, the registry busy writing queries to sockets).
 *
 * Why it is exact: every check reads the version before any catalog row, and every entry was read after the
 * version it is kept under was seen, so an entry holds at least every change committed before that
 * version. A check that sees version v may use entries kept under v or later (they are at least as new); a
 * check that sees a newer version drops them all. Reads started under an older version go to the map of
 * that version, which is no longer the cache's, so they never land in the newer one.
 */
export class CatalogCache {
  #version = -1;
  #entries = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Source,
    private readonly binaries: Pick<BinaryLookup, 'binary'>,
  ) {}

  /**
   * The reads of one check that saw catalog `version` (undefined: the store has none); each key is read at
   * most once in the check, and across checks while the version allows.
   */
  view(version: number | undefined): CatalogReads {
    let entries: Map<string, Promise<unknown>>;
    if (version === undefined) {
      entries = new Map();
    } else {
      if (version > this.#version || this.#entries.size > MAX_ENTRIES) {
        this.#version = Math.max(version, this.#version);
        this.#entries = new Map();
      }
      entries = this.#entries;
    }
    const read = <T>(key: string, load: () => Promise<T>): Promise<T> => {
      let value = entries.get(key) as Promise<T> | undefined;
      if (!value) {
        value = load();
        entries.set(key, value);
        // A failed read is not kept: the next check tries again.
        value.catch(() => entries.get(key) === value && entries.delete(key));
      }
      return value;
    };
    return {
      getCohort: (id) => read(`cohort:${id}`, () => this.store.getCohort(id)),
      cohortReleases: (id) => read(`releases:${id}`, () => this.store.cohortReleases(id)),
      getBundle: (id) => read(`bundle:${id}`, () => this.store.getBundle(id)),
      binary: (id) => read(`binary:${id}`, () => this.binaries.binary(id)),
    };
  }
}
