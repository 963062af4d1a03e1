import type { Logger } from '@peridio-actions/core';
import type { Database } from './db.js';
import type { Presigner } from './presign.js';
import type { Storage } from './storage.js';

/** What every route handler needs. One organization per registry. */
export interface RegistryContext {
  db: Database;
  storage: Storage;
  presigner: Presigner;
  logger: Logger;
  /** The organization's UUID; PRNs of any other organization are 404. */
  org: string;
  /** `--public-url`, without a trailing slash; else presigned URLs use the request's Host. */
  publicUrl: string | undefined;
  /** Wakes the background hasher for a binary that just entered `hashing`. */
  enqueueHashing(binaryId: string): void;
  /** A part just became valid: lets the background hash of the content move on. */
  partValid(binaryId: string): void;
  /** A signable or signed binary was just destroyed (release management warns about releases using it). */
  binaryDestroyed?: (binaryId: string) => void;
}
