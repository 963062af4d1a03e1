/**
 * In-process mutual exclusion by key. Used where a record change and a content change must not interleave
 * with another request's (a part PUT committing while the binary is reset, a blob deleted while another
 * binary re-uses it). One registry process owns a data dir, so an in-process lock is enough.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
