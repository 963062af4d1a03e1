import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RegistryContext } from './context.js';
import { binaryLock, blobLock } from './janitor.js';
import { findBinary, incompleteReason, resetToUploadable } from './lifecycle.js';
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
export class Hasher {
  private readonly queue: string[] = [];
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  /** Running hashes of the parts uploaded so far, so the check at `hashing` only reads the tail. */
  readonly prefixes: PrefixDigests;

  constructor(
    private readonly ctx: RegistryContext,
    private readonly delayMs = 0,
  ) {
    this.prefixes = new PrefixDigests(ctx, this.abort.signal);
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

  private async hash(binaryId: string): Promise<void> {
    const { ctx } = this;
    if (this.delayMs > 0) await sleep(this.delayMs, undefined, { signal: this.abort.signal });
    const binary = await findBinary(ctx, binaryId);
    if (!binary || binary.state !== 'hashing') return;
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
          for await (const chunk of ctx.blobs.readPart(binaryId, part.file ?? '', this.abort.signal)) {
            hash.update(chunk);
            total += chunk.length;
          }
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
}
