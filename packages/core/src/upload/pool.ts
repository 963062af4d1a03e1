/**
 * A fixed number of workers pulling from one queue, so at most `limit` items are in flight however
 * many there are (10,000 parts must not become 10,000 open requests). The first failure stops the
 * queue and aborts the items in flight; the pool still waits for them to settle, so nothing keeps
 * running behind the caller's back once it has the error.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  worker: (item: T, signal: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  const stop = new AbortController();
  const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let next = 0;
  let failure: { error: unknown } | undefined;

  const runWorker = async (): Promise<void> => {
    while (!failure && !combined.aborted && next < items.length) {
      const item = items[next++]!;
      try {
        await worker(item, combined);
      } catch (error) {
        // Later errors are mostly the abort this one causes; the first is the cause.
        if (!failure) {
          failure = { error };
          stop.abort(error);
        }
      }
    }
  };

  const workers = Array.from({ length: Math.min(limit, items.length) }, runWorker);
  await Promise.all(workers);
  if (failure) throw failure.error;
  signal?.throwIfAborted();
}
