import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RegistryContext } from './context.js';
import { findBinary, incompleteReason, partsOf, resetToUploadable } from './lifecycle.js';
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

  requeueInterrupted(): void {
    const rows = this.ctx.db.all<{ id: string }>(
      "SELECT id FROM binaries WHERE state = 'hashing' ORDER BY updated_at",
    );
    for (const row of rows) this.enqueue(row.id);
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

  /** Resolves when the queue is empty (for tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
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
    const binary = findBinary(ctx, binaryId);
    if (!binary || binary.state !== 'hashing') return;
    const generation = binary.upload_generation;
    const parts = partsOf(ctx, binaryId);
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
          const stream = createReadStream(ctx.storage.partPath(binaryId, part.file ?? ''), {
            signal: this.abort.signal,
            highWaterMark: 1024 * 1024,
          });
          for await (const chunk of stream as AsyncIterable<Buffer>) {
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

    // Synchronous from here: the binary may have been reset while we read; then this result is stale.
    const current = findBinary(ctx, binaryId);
    if (!current || current.state !== 'hashing' || current.upload_generation !== generation) return;
    if (failure) {
      ctx.logger.warning(`binary ${binaryId}: server-side hash check failed, back to uploadable: ${failure}`);
      ctx.db.transaction(() => resetToUploadable(ctx, current, `server-side hash check failed: ${failure}`));
      return;
    }
    ctx.storage.publishBlobSync(
      digest,
      binaryId,
      parts.map((p) => p.file!),
    );
    ctx.db.run(
      "UPDATE binaries SET state = 'signable', blob_hash = ?, hash_error = NULL, updated_at = ? WHERE id = ?",
      digest,
      nowTimestamp(),
      binaryId,
    );
    // The blob holds its own links to the bytes; the part files are no longer needed.
    ctx.storage.removePartsSync(binaryId);
    ctx.logger.info(`binary ${binaryId}: content verified (${binary.size} bytes), signable`);
  }
}
