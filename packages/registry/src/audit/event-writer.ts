import type { NewEvent } from '../store/release-store.js';
import type { AccessStore } from '../store/access-store.js';

/**
 * Group commit for audit events: events appended while a write is under way go together in the next one,
 * so many requests share one durable commit instead of one each. `append` resolves once its event is
 * committed, so a request still answers only after its event is stored.
 */
export class EventWriter {
  private batch: { event: NewEvent; done: () => void; fail: (e: unknown) => void }[] = [];
  private writing = false;

  constructor(
    private readonly access: Pick<AccessStore, 'appendEvents'>,
    private readonly written: () => void,
  ) {}

  append(event: NewEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.push({ event, done: resolve, fail: reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.batch.length > 0) {
      const batch = this.batch;
      this.batch = [];
      try {
        await this.access.appendEvents(batch.map((b) => b.event));
        for (const b of batch) b.done();
        this.written();
      } catch (err) {
        for (const b of batch) b.fail(err);
      }
    }
    this.writing = false;
  }
}
