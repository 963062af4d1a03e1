/**
 * Group commit: what is submitted during one turn of the event loop, and while a commit is under way, goes
 * to the next commit together, so many requests share one durable write instead of one each. node:sqlite
 * commits synchronously, blocking the process for the fsync: one commit per update check capped the checks
 * at a few hundred a second. `submit` resolves with the item's own result once its commit is done, so a
 * request still answers only after what it wrote is stored; a failed commit fails every item in it.
 */
export class GroupCommit<I, O> {
  private batch: { item: I; done: (result: O) => void; fail: (err: unknown) => void }[] = [];
  private writing = false;

  /** `commit` stores the items in order and answers one result per item. */
  constructor(private readonly commit: (items: I[]) => Promise<O[]>) {}

  submit(item: I): Promise<O> {
    return new Promise((done, fail) => {
      this.batch.push({ item, done, fail });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    // After the requests already read in this turn have submitted theirs (node:sqlite never yields).
    await new Promise((resolve) => setImmediate(resolve));
    while (this.batch.length > 0) {
      const batch = this.batch;
      this.batch = [];
      try {
        const results = await this.commit(batch.map((b) => b.item));
        batch.forEach((b, i) => b.done(results[i]!));
      } catch (err) {
        for (const b of batch) b.fail(err);
      }
    }
    this.writing = false;
  }
}
