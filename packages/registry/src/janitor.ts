import type { Logger } from '@peridio-actions/core/base';
import type { BlobStore } from './blobs/blob-store.js';
import type { KeyedLock } from './lock.js';
import type { ContentGarbage, Store } from './store/store.js';

/**
 * Deletes content whose records a committed transaction dropped (the store's `contentGarbage` list), so a
 * rolled-back request never loses content and a crash mid-delete leaves a record the next start finishes.
 * A blob is deleted only while no binary refers to it, under the blob's lock, which the hasher also holds
 * while it re-uses a blob: a blob is never deleted under a binary that just started to use it.
 */
export class Janitor {
  private running: Promise<void> = Promise.resolve();
  /**
   * Items whose deletion failed are retried at the next start only: a sweep runs under the lock of the binary
   * whose change made the garbage, not of the binaries whose older garbage it would retry.
   */
  private readonly failed = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly locks: KeyedLock,
    private readonly logger: Logger,
    /**
     * This instance, for the per-item leases that keep instances sharing the store from deleting the same
     * item at once; none for a store only this process uses.
     */
    private readonly owner?: string,
  ) {}

  /** Resolves once everything that was garbage when called is deleted (or logged as failed). */
  sweep(): Promise<void> {
    this.running = this.running.then(() => this.sweepOnce());
    return this.running;
  }

  private async sweepOnce(): Promise<void> {
    for (const { id, item } of await this.store.contentGarbage.pending()) {
      if (this.failed.has(id)) continue;
      const lease = `garbage:${id}`;
      const owner = this.owner;
      if (owner && !(await this.store.leases.claim(lease, owner, 120_000))) continue; // another instance's
      try {
        await this.delete(item);
        await this.store.contentGarbage.done(id);
        if (owner) await this.store.leases.release(lease, owner);
      } catch (err) {
        // Kept in the list: the next start tries again.
        this.failed.add(id);
        this.logger.warning(`deleting content (${describe(item)}) failed: ${(err as Error).message}`);
      }
    }
  }

  private async delete(item: ContentGarbage): Promise<void> {
    const direct = this.blobs.direct;
    if (direct) {
      // Each upload generation is its own object: a dead generation's upload goes whole, and nothing is
      // shared between binaries (no blob to reference-count).
      if (item.kind === 'parts') await direct.remove(item.binaryId, item.generation);
      return;
    }
    switch (item.kind) {
      case 'parts': {
        // Parts uploaded since (a retry at a later start): those files are in use; stale ones are named by
        // their own hashes and go with the binary's next reset or destruction.
        const inUse = (await this.store.parts.list(item.binaryId)).some((p) => p.file);
        if (!inUse) await this.blobs.removeParts(item.binaryId);
        return;
      }
      case 'part': {
        const inUse = (await this.store.parts.list(item.binaryId)).some((p) => p.file === item.file);
        if (!inUse) await this.blobs.removePart(item.binaryId, item.file);
        return;
      }
      case 'blob':
        return this.locks.run(blobLock(item.blobHash), async () => {
          if (!(await this.store.binaries.blobReferenced(item.blobHash)))
            await this.blobs.removeBlob(item.blobHash);
        });
    }
  }
}

export const blobLock = (hash: string) => `blob:${hash}`;
export const binaryLock = (id: string) => `binary:${id}`;

function describe(item: ContentGarbage): string {
  return item.kind === 'blob' ? `blob ${item.blobHash}` : `parts of binary ${item.binaryId}`;
}
