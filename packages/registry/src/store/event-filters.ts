import { fieldError } from '../http.js';
import { splitPrn } from '../releases/prn.js';
import { DATE, EVENT_SUBTYPES, EVENT_TYPES } from './sqlite/release-rows.js';

export interface EventCondition {
  column: 'type' | 'subtype' | 'resource_prn' | 'actor_prn' | 'inserted_at';
  op: '=' | '<' | '>=';
  value: string;
}

/**
 * The filters of `GET /events` (`type`, `subtype`, `resource_prn`, `actor_prn`, `inserted_at_lt`,
 * `inserted_at_gte`) as conditions every store renders in its own SQL; a bad value is a 422 naming it.
 * Events take no `search`.
 */
export function eventConditions(query: URLSearchParams): EventCondition[] {
  const out: EventCondition[] = [];
  const type = query.get('type');
  if (type !== null) {
    if (!EVENT_TYPES.includes(type)) throw fieldError('type', `must be one of ${EVENT_TYPES.join(', ')}`);
    out.push({ column: 'type', op: '=', value: type });
  }
  const subtype = query.get('subtype');
  if (subtype !== null) {
    if (!EVENT_SUBTYPES.includes(subtype))
      throw fieldError('subtype', `must be one of ${EVENT_SUBTYPES.join(', ')}`);
    out.push({ column: 'subtype', op: '=', value: subtype });
  }
  for (const key of ['resource_prn', 'actor_prn'] as const) {
    const value = query.get(key);
    if (value === null) continue;
    if (!splitPrn(value)) throw fieldError(key, 'is invalid: must be a PRN');
    out.push({ column: key, op: '=', value });
  }
  for (const [key, op] of [
    ['inserted_at_lt', '<'],
    ['inserted_at_gte', '>='],
  ] as const) {
    const value = query.get(key);
    if (value === null) continue;
    if (!DATE.test(value))
      throw fieldError(key, "is invalid: must be a date-time like '2026-01-01T00:00:00Z'");
    // Stored timestamps have six fraction digits: compare in the same shape.
    const stored = value.replace(
      /(\.\d+)?Z$/,
      (_m, f: string | undefined) => `${(f ?? '.').padEnd(7, '0')}Z`,
    );
    out.push({ column: 'inserted_at', op, value: stored });
  }
  if (query.get('search'))
    throw fieldError(
      'search',
      'is not supported on events: use the type, subtype, resource_prn, actor_prn and inserted_at_* filters',
    );
  return out;
}
