import { InputError, UserError } from '../errors.js';

/**
 * Several inputs are wrong at once. One error (hence one annotation) listing all of them, in the order the
 * readers ran (action.yml order), so a user fixes the workflow in one edit instead of one re-run per mistake.
 */
export class InputErrors extends UserError {
  override name = 'InputErrors';
  constructor(readonly errors: InputError[]) {
    super(`${errors.length} inputs need fixing:\n${errors.map((err) => `- ${err.message}`).join('\n')}`);
  }
  get inputs(): string[] {
    return this.errors.map((err) => err.input);
  }
}

/**
 * Runs every reader, in the order given, and collects the InputErrors instead of stopping at the first.
 * Any other error is a bug and is thrown at once.
 */
export function readAllInputs<T extends object>(readers: { [K in keyof T]: () => T[K] }): T {
  const values: Partial<T> = {};
  const errors: InputError[] = [];
  for (const key of Object.keys(readers) as (keyof T)[]) {
    try {
      values[key] = readers[key]();
    } catch (err) {
      if (err instanceof InputErrors) errors.push(...err.errors);
      else if (err instanceof InputError) errors.push(err);
      else throw err;
    }
  }
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new InputErrors(errors);
  return values as T;
}
