import type { X509Certificate } from 'node:crypto';
import type { Logger } from '@peridio-actions/core/base';
import type { BlobStore } from './blobs/blob-store.js';
import type { Janitor } from './janitor.js';
import type { KeyedLock } from './lock.js';
import type { Presigner } from './presign.js';
import type { Store } from './store/store.js';

/** What every route handler needs. One organization per registry. */
export interface RegistryContext {
  store: Store;
  blobs: BlobStore;
  /** Serialises changes of one binary's records and content (see lifecycle.ts `changeBinary`). */
  locks: KeyedLock;
  janitor: Janitor;
  presigner: Presigner;
  logger: Logger;
  /** This process, as the owner of leases on background work (several instances share one database). */
  instanceId: string;
  /** The organization's UUID; PRNs of any other organization are 404. */
  org: string;
  /** `--public-url`, without a trailing slash; else presigned URLs use the request's Host. */
  publicUrl: string | undefined;
  /** `--signing-ca`: when any, a signing key must be a certificate chain that leads to one of them. */
  signingCas?: X509Certificate[];
  /** Wakes the background hasher for a binary that just entered `hashing`. */
  enqueueHashing(binaryId: string): void;
  /** A part just became valid: lets the background hash of the content move on. */
  partValid(binaryId: string): void;
}
