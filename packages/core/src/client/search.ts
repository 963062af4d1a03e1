import { InputError } from '../errors.js';

/** The Admin API refuses a search of more than 5 clauses; failing here names the input instead of a 400. */
const MAX_CLAUSES = 5;
const FIELD = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * Builds an equality search in Peridio's query language, e.g. `target:'x' and artifact_version_prn:'y'`.
 * Strings are single-quoted with `\'`; a backslash is escaped as `\\` too, because otherwise a value
 * ending in `\` would escape its own closing quote and swallow the next clause (the self-hosted
 * registry unescapes any `\x`; real Peridio documents only `\'`, and its values never need more).
 */
export function searchQuery(clauses: Record<string, string | number | boolean>): string {
  const entries = Object.entries(clauses);
  if (entries.length === 0 || entries.length > MAX_CLAUSES) {
    throw new InputError('search', `a search needs 1 to ${MAX_CLAUSES} clauses, got ${entries.length}`);
  }
  return entries.map(([field, value]) => `${checkField(field)}:${formatValue(field, value)}`).join(' and ');
}

function checkField(field: string): string {
  if (!FIELD.test(field)) throw new InputError('search', `"${field}" is not a searchable field name`);
  return field;
}

function formatValue(field: string, value: string | number | boolean): string {
  if (typeof value === 'string') return `'${value.replace(/[\\']/g, (ch) => `\\${ch}`)}'`;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new InputError('search', `the value of "${field}" must be a finite number`);
  }
  return String(value);
}
