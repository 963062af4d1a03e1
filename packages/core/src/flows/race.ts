/**
 * Matrix jobs of one release create the same artifact, version (and, on a re-run, binary) at the same
 * moment. The registry lets exactly one create win; the others get a uniqueness error, and the right
 * answer for them is the record the winner made.
 */
import { ApiError } from '../errors.js';
import { abortableSleep } from '../retry.js';

/**
 * A create refused because the record already exists: 409, or the 422 "has already been taken" Peridio
 * answers for a unique name, version or target.
 */
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
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 1; ; attempt++) {
    const found = await read();
    if (found !== undefined || attempt >= attempts) return found;
    await sleep((options.delayMs ?? 100) * 2 ** (attempt - 1));
  }
}

/**
 * A change the registry may refuse because another run moved the record first. When it answers with one
 * of `refusedWith`, the record is read again and `decide` judges the refusal by it: a value to go on with,
 * or undefined to let the refusal stand. `decide` may also throw an error of its own (a conflict, say).
 */
export async function changeOrReread<T, R>(
  change: () => Promise<T>,
  refusedWith: readonly number[],
  reread: () => Promise<R>,
  decide: (current: R, refusal: ApiError) => T | undefined | Promise<T | undefined>,
): Promise<T> {
  try {
    return await change();
  } catch (err) {
    if (!(err instanceof ApiError) || !refusedWith.includes(err.status)) throw err;
    const decided = await decide(await reread(), err);
    if (decided === undefined) throw err;
    return decided;
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
