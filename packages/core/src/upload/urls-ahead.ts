/**
 * Presigned URLs asked for ahead of their parts. When part n starts, the URL of the part `concurrency`
 * places behind it in the queue is asked for; by the time a slot frees up, that part's URL is there and
 * the PUTs follow each other without an Admin API round trip between them.
 *
 * An early URL is only a head start. Its part takes it once and checks its expiry as it checks any URL
 * (a retry, or a refusal, asks again); an early ask that failed is dropped and the part asks itself, so a
 * stale error from seconds ago never fails a part. Asks not taken when the pass ends are cancelled and
 * waited for: nothing keeps talking to the API once the caller has the result.
 */
import type { PartDigest } from '../hash.js';
import type { Logger } from '../logger.js';
import type { CreatedBinaryPart } from '../types.js';

export type AskUrl = (part: PartDigest, signal: AbortSignal) => Promise<CreatedBinaryPart>;

export class UrlsAhead {
  private readonly asked = new Map<number, Promise<string | undefined>>();
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;

  constructor(
    private readonly ask: AskUrl,
    private readonly logger: Logger,
    outer?: AbortSignal,
  ) {
    this.signal = outer ? AbortSignal.any([outer, this.stop.signal]) : this.stop.signal;
  }

  /** Starts asking for `part`'s URL, unless it was asked for already or the pass is over. */
  prefetch(part: PartDigest | undefined): void {
    if (!part || this.asked.has(part.index) || this.signal.aborted) return;
    const url = this.ask(part, this.signal).then(
      (created) => created.presigned_upload_url,
      (err: unknown) => {
        if (!this.signal.aborted) {
          const reason = err instanceof Error ? err.message : String(err);
          this.logger.debug(`part ${part.index}: asking for its URL ahead failed (${reason}); it asks again`);
        }
        return undefined;
      },
    );
    this.asked.set(part.index, url);
  }

  /** The URL asked for ahead (undefined if the ask failed), once; undefined when none was asked for. */
  take(part: PartDigest): Promise<string | undefined> | undefined {
    const url = this.asked.get(part.index);
    // Kept in the map (as taken) so a later prefetch of the same part does not ask again.
    this.asked.set(part.index, TAKEN);
    return url === TAKEN ? undefined : url;
  }

  /** Cancels the asks nobody took and waits until they have settled. */
  async close(): Promise<void> {
    this.stop.abort(new Error('the upload pass ended'));
    await Promise.all(this.asked.values());
  }
}

const TAKEN: Promise<undefined> = Promise.resolve(undefined);
