import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RegistryContext } from './context.js';
import { binaryLock, blobLock } from './janitor.js';
import { ContentUnavailable, hashContent, type DirectUploads } from './blobs/blob-store.js';
import { changeBinary, findBinary, incompleteReason, resetToUploadable } from './lifecycle.js';
import type { BinaryRow } from './store/rows.js';
import { PrefixDigests } from './prefix-digest.js';
import { nowTimestamp } from './time.js';

/**
 * The server's own check, `hashing → signable`: the SHA-256 of the parts in order (most of it computed while
 * they arrived, see prefix-digest.ts; otherwise in one pass now), and when it
 * and size match the record, publishes them as the content blob. On a mismatch (or missing content) the
 * binary goes back to `uploadable` with its parts deleted and the reason in `hash_error` and the log: a
 * client polling for `signable` sees `uploadable` and uploads again.
 *
 * One binary at a time, in the background. Binaries left in `hashing` by a stop or crash are re-queued on start.
 */
export interface HasherOptions {
  /** Artificial delay before each check (tests of clients' polling). */
  delayMs?: number;
  /**
   * How long a claim on a binary's check lasts without renewal. An instance renews it while it reads;
   * another takes the check over once it runs out (the claimant died).
   */
  leaseMs?: number;
  /**
   * The store is shared by several instances: claim each check under a lease, and look for binaries in
   * `hashing` that nobody checks (their instance died) every `leaseMs / 2`. Otherwise a restart re-queues them.
   */
  shared?: boolean;
}

export class Hasher {
  private readonly queue: string[] = [];
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private poller: NodeJS.Timeout | undefined;
  private readonly delayMs: number;
  private readonly leaseMs: number;
  private readonly shared: boolean;
  /** Running hashes of the parts uploaded so far, so the check at `hashing` only reads the tail. */
  readonly prefixes: PrefixDigests;

  constructor(
    private readonly ctx: RegistryContext,
    options: HasherOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 0;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.prefixes = new PrefixDigests(ctx, this.abort.signal);
    this.shared = options.shared ?? false;
    if (this.shared) {
      this.poller = setInterval(
        () => {
          this.requeueInterrupted().catch((err: unknown) =>
            ctx.logger.debug(`looking for unchecked binaries failed: ${(err as Error).message}`),
          );
        },
        Math.max(250, this.leaseMs / 2),
      );
      this.poller.unref();
    }
  }

  async requeueInterrupted(): Promise<void> {
    for (const id of await this.ctx.store.binaries.idsInState('hashing')) this.enqueue(id);
  }

  enqueue(binaryId: string): void {
    if (this.abort.signal.aborted) return;
    if (!this.queue.includes(binaryId)) this.queue.push(binaryId);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Stops after the current read; a binary still in `hashing` is picked up again on the next start. */
  async close(): Promise<void> {
    clearInterval(this.poller);
    this.abort.abort();
    this.queue.length = 0;
    await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      const id = this.queue.shift()!;
      try {
        await this.hash(id);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.ctx.logger.error(`hashing ${id} failed unexpectedly: ${(err as Error).message}`);
      }
    }
  }

  /** Under a lease, so of several instances one checks a binary, and another once that one died. */
  private async hash(binaryId: string): Promise<void> {
    const { ctx } = this;
    if (!this.shared) return this.check(binaryId);
    const lease = `hash:${binaryId}`;
    if (!(await ctx.store.leases.claim(lease, ctx.instanceId, this.leaseMs))) return;
    const renew = setInterval(() => {
      ctx.store.leases.claim(lease, ctx.instanceId, this.leaseMs).catch(() => undefined);
    }, this.leaseMs / 3);
    try {
      await this.check(binaryId);
    } finally {
      clearInterval(renew);
      await ctx.store.leases.release(lease, ctx.instanceId).catch(() => undefined);
    }
  }

  private async check(binaryId: string): Promise<void> {
    const { ctx } = this;
    if (this.delayMs > 0) await sleep(this.delayMs, undefined, { signal: this.abort.signal });
    const binary = await findBinary(ctx, binaryId);
    if (!binary || binary.state !== 'hashing') return;
    if (ctx.blobs.direct) return this.checkDirect(binary, ctx.blobs.direct);
    const generation = binary.upload_generation;
    const parts = await ctx.store.parts.list(binaryId);
    let failure = incompleteReason(binary, parts);
    let digest = '';
    if (!failure) {
      const hash = createHash('sha256');
      let total = 0;
      try {
        const kept = await this.prefixes.digestOf(
          binaryId,
          parts.map((p) => p.file ?? ''),
        );
        for (const part of kept ? [] : parts) {
          const reader = await ctx.blobs.openPart(binaryId, part.file ?? '');
          total += await hashContent(reader, hash, this.abort.signal);
        }
        if (kept) ctx.logger.debug(`binary ${binaryId}: content hashed while its parts arrived`);
        digest = kept?.digest ?? hash.digest('hex');
        total = kept?.bytes ?? total;
        if (total !== binary.size)
          failure = `the content is ${total} bytes, the binary's size is ${binary.size}`;
        else if (digest !== binary.hash)
          failure = `the content's SHA-256 is ${digest}, the binary's hash is ${binary.hash}`;
      } catch (err) {
        if (this.abort.signal.aborted) throw err;
        failure = `the uploaded content could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
      }
    }

    // Under the binary's lock from here: the binary may have been reset while we read; then this result is stale.
    await ctx.locks.run(binaryLock(binaryId), async () => {
      const current = await findBinary(ctx, binaryId);
      if (!current || current.state !== 'hashing' || current.upload_generation !== generation) return;
      if (failure) {
        ctx.logger.warning(
          `binary ${binaryId}: server-side hash check failed, back to uploadable: ${failure}`,
        );
        await ctx.store.transaction((tx) =>
          resetToUploadable(tx, current, `server-side hash check failed: ${failure}`),
        );
        await ctx.janitor.sweep();
        return;
      }
      const files = parts.map((p) => p.file!);
      // Under the blob's lock: the janitor cannot delete a blob between its re-use here and the record naming it.
      await ctx.locks.run(blobLock(digest), async () => {
        await ctx.blobs.assembleBlob(digest, binary.size, binaryId, files);
        const change = { to: 'signable' as const, generation, blobHash: digest };
        if (await ctx.store.binaries.transition(binaryId, change, nowTimestamp())) return;
        // Cannot happen while the lock is held; if it did, the blob must not outlive its last reference.
        await ctx.store.contentGarbage.add({ kind: 'blob', blobHash: digest }, nowTimestamp());
      });
      await ctx.janitor.sweep();
      // The blob holds its own links to the bytes; the part files are no longer needed.
      await ctx.blobs.removeParts(binaryId);
      ctx.logger.info(`binary ${binaryId}: content verified (${binary.size} bytes), signable`);
    });
  }

  /**
   * The check for content in a direct store (S3): complete the upload if `hashable` did not, stream the
   * object once and compare. S3's own checksums of a multipart object are per part (a checksum of checksums),
   * not the SHA-256 of the whole content, so they cannot stand in for this read. A store that cannot be
   * reached leaves the binary in `hashing`; the check runs again (this instance's poll, or another's).
   */
  private async checkDirect(binary: BinaryRow, direct: DirectUploads): Promise<void> {
    const { ctx } = this;
    const generation = binary.upload_generation;
    const upload = { binaryId: binary.id, generation };
    const parts = await ctx.store.parts.list(binary.id);
    let failure = incompleteReason(binary, parts);
    let digest = '';
    if (!failure) {
      try {
        await direct.complete(
          upload,
          parts.map((p) => p.idx),
        );
        const hash = createHash('sha256');
        let total = 0;
        for await (const chunk of direct.read(upload, this.abort.signal)) {
          hash.update(chunk);
          total += chunk.length;
        }
        digest = hash.digest('hex');
        if (total !== binary.size)
          failure = `the content is ${total} bytes, the binary's size is ${binary.size}`;
        else if (digest !== binary.hash)
          failure = `the content's SHA-256 is ${digest}, the binary's hash is ${binary.hash}`;
      } catch (err) {
        if (this.abort.signal.aborted) throw err;
        if (err instanceof ContentUnavailable) {
          ctx.logger.warning(`binary ${binary.id}: hash check postponed: ${err.message}`);
          setTimeout(() => this.enqueue(binary.id), Math.min(this.leaseMs, 5_000)).unref();
          return;
        }
        failure = `the uploaded content could not be completed or read (${(err as Error).message})`;
      }
    }
    await changeBinary(ctx, binary.id, async (tx) => {
      const current = await findBinary(ctx, binary.id, tx);
      if (!current || current.state !== 'hashing' || current.upload_generation !== generation) return;
      if (failure) {
        ctx.logger.warning(
          `binary ${binary.id}: server-side hash check failed, back to uploadable: ${failure}`,
        );
        await resetToUploadable(tx, current, `server-side hash check failed: ${failure}`);
        return;
      }
      await tx.binaries.transition(
        binary.id,
        { to: 'signable', generation, blobHash: digest },
        nowTimestamp(),
      );
      ctx.logger.info(`binary ${binary.id}: content verified (${binary.size} bytes), signable`);
    });
  }
}
