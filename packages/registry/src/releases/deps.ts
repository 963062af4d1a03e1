import type { Logger } from '@peridio-actions/core/base';
import type { BinaryLookup } from './binary-lookup.js';
import type { CatalogCache } from './catalog-cache.js';
import type { EventWriter } from '../audit/event-writer.js';
import type { ReleaseStore } from '../store/release-store.js';

/** What release-management routes need: nothing else of the registry. */
export interface ReleaseDeps {
  org: string;
  store: ReleaseStore;
  /** Events a request records: committed in groups, resolved once stored (audit/event-writer.ts). */
  events: Pick<EventWriter, 'append'>;
  binaries: BinaryLookup;
  /** The update check's reads of the catalog, kept between checks while the catalog is unchanged. */
  catalog: Pick<CatalogCache, 'view'>;
  logger: Logger;
  now(): Date;
}
