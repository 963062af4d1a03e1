/**
 * Matrix jobs of one release create the same artifact, version (and, on a re-run, binary) at the same
 * moment. The registry lets exactly one create win; the others get a uniqueness error, and the right
 * answer for them is the record the winner made.
 */
import { ApiError } from '../errors.js';

/** A create refused because the record already exists: 409, or 422 "has already been taken" (protocol.md §2.4). */
export function isAlreadyTaken(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.status === 409) return true;
  if (err.status !== 422) return false;
  const text = [err.detail, ...Object.values(err.fieldErrors).flat()].join(' ').toLowerCase();
  return /already been taken|already exists|must be unique/.test(text);
}

/**
 * Reads the winner's record after losing a create race. The winner has committed before answering, but
 * a registry behind replicas may take a moment to show it, so a miss is retried briefly.
 */
export async function readAfterLostRace<T>(
  read: () => Promise<T | undefined>,
  options: { attempts?: number; delayMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<T | undefined> {
  const attempts = options.attempts ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    const found = await read();
    if (found !== undefined || attempt >= attempts) return found;
    await sleep((options.delayMs ?? 100) * 2 ** (attempt - 1));
  }
}

/**
 * Create, or on a lost race take the winner's record. `created` tells the caller which happened, so that
 * outputs can say whether this run made the record.
 */
export async function findOrCreate<T>(
  find: () => Promise<T | undefined>,
  create: () => Promise<T>,
): Promise<{ record: T; created: boolean }> {
  const existing = await find();
  if (existing !== undefined) return { record: existing, created: false };
  try {
    return { record: await create(), created: true };
  } catch (err) {
    if (!isAlreadyTaken(err)) throw err;
    const winner = await readAfterLostRace(find);
    if (winner === undefined) throw err;
    return { record: winner, created: false };
  }
}
