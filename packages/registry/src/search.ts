import { parsePrn, type PrnType } from '@peridio-actions/core/base';
import { HttpError } from './http.js';
import type { Filter } from './store/store.js';

/**
 * The search query language of Peridio's Admin API: up to 5 clauses joined by ` and `,
 * each `field<op>value`, with `:` equals, `~` substring, `-` case-insensitive substring and the four
 * comparisons; strings single-quoted with `\'`. Parsed into typed filters the Store applies.
 */
type FieldKind = 'string' | 'prn' | 'date' | 'integer';
export type Operator = ':' | '~' | '-' | '<' | '<=' | '>' | '>=';

export interface SearchField {
  kind: FieldKind;
  ops: Operator[];
  prnType?: PrnType;
}

export type SearchFields = Record<string, SearchField>;

const CMP: Operator[] = [':', '<', '<=', '>', '>='];
export const dateField = (): SearchField => ({ kind: 'date', ops: CMP });
export const integerField = (): SearchField => ({ kind: 'integer', ops: CMP });
export const stringField = (ops: Operator[] = [':']): SearchField => ({ kind: 'string', ops });
export const prnField = (prnType: PrnType): SearchField => ({
  kind: 'prn',
  ops: [':'],
  prnType,
});

interface Clause {
  field: string;
  op: Operator;
  value: string;
  quoted: boolean;
}

function unsupported(message: string): HttpError {
  return new HttpError(422, { errors: { search: [message] } });
}

const CLAUSE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|:|~|-|<|>)\s*(.*?)\s*$/s;

/** Splits on ` and ` outside quotes. */
function splitClauses(query: string): string[] {
  const clauses: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < query.length; i++) {
    const ch = query[i]!;
    if (quoted && ch === '\\' && i + 1 < query.length) {
      current += ch + query[i + 1];
      i++;
      continue;
    }
    if (ch === "'") quoted = !quoted;
    if (!quoted && query.startsWith(' and ', i)) {
      clauses.push(current);
      current = '';
      i += 4;
      continue;
    }
    current += ch;
  }
  if (quoted) throw unsupported('unterminated quoted value');
  clauses.push(current);
  return clauses;
}

function parseClause(text: string): Clause {
  const match = CLAUSE.exec(text);
  if (!match) throw unsupported(`cannot parse search clause "${text.trim()}"`);
  const [, field, op, raw] = match as unknown as [string, string, Operator, string];
  if (raw.startsWith("'")) {
    let value = '';
    let i = 1;
    for (; i < raw.length && raw[i] !== "'"; i++) {
      if (raw[i] === '\\' && i + 1 < raw.length) i++;
      value += raw[i];
    }
    if (i >= raw.length) throw unsupported(`unterminated quoted value in "${text.trim()}"`);
    if (i !== raw.length - 1) {
      throw unsupported(
        `unexpected text after the quoted value in "${text.trim()}" (clauses are joined by "and")`,
      );
    }
    return { field, op, value, quoted: true };
  }
  if (!/^(-?\d+(\.\d+)?|true|false)$/.test(raw)) {
    throw unsupported(
      `value of "${field}" must be single-quoted (strings and dates) or a bare number or boolean`,
    );
  }
  return { field, op, value: raw, quoted: false };
}

const DATE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;

function compileClause(clause: Clause, fields: SearchFields): Filter {
  const spec = fields[clause.field];
  const known = Object.keys(fields).join(', ');
  if (!spec)
    throw unsupported(`search on "${clause.field}" is not supported here (supported fields: ${known})`);
  if (!spec.ops.includes(clause.op)) {
    throw unsupported(
      `operator "${clause.op}" is not supported for "${clause.field}" (supported: ${spec.ops.join(' ')})`,
    );
  }
  const field = clause.field;
  const op =
    clause.op === ':' ? '=' : clause.op === '~' ? 'contains' : clause.op === '-' ? 'icontains' : clause.op;
  switch (spec.kind) {
    case 'prn': {
      const prn = parsePrn(clause.value);
      // A PRN of another type or organization can match nothing here; that is an empty result, not an error.
      if (!prn?.id || prn.type !== spec.prnType) return { field, never: true };
      return { field, op: '=', prn: { org: prn.org.toLowerCase(), id: prn.id.toLowerCase() } };
    }
    case 'integer': {
      if (!/^-?\d+$/.test(clause.value)) throw unsupported(`value of "${clause.field}" must be an integer`);
      return { field, op, value: Number(clause.value) };
    }
    case 'date': {
      const m = DATE.exec(clause.value);
      if (!m)
        throw unsupported(`value of "${clause.field}" must be a quoted date-time 'YYYY-MM-DDTHH:MM:SSZ'`);
      const [, seconds, fraction] = m as unknown as [string, string, string | undefined];
      if (clause.op === ':' && fraction === undefined)
        return { field, op, value: seconds, secondsOnly: true };
      return { field, op, value: `${seconds}.${(fraction ?? '').padEnd(6, '0')}Z` };
    }
    default:
      return { field, op, value: clause.value };
  }
}

const MAX_CLAUSES = 5;

export function compileSearch(query: string | null, fields: SearchFields): Filter[] {
  if (query === null || query.trim() === '') return [];
  const clauses = splitClauses(query);
  if (clauses.length > MAX_CLAUSES) throw unsupported(`at most ${MAX_CLAUSES} clauses joined by "and"`);
  return clauses.map((text) => compileClause(parseClause(text), fields));
}
