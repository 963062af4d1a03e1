import type { Logger } from '@peridio-actions/core/base';
import type { BinaryLookup } from './binary-lookup.js';
import type { ReleaseStore } from '../store/release-store.js';

/** What release-management routes need: nothing else of the registry. */
export interface ReleaseDeps {
  org: string;
  store: ReleaseStore;
  binaries: BinaryLookup;
  logger: Logger;
  now(): Date;
}
