import { AUDIT_EVENT_SUBTYPES, AUDIT_EVENT_TYPES } from '../audit/event-names.js';
import { fieldError } from '../http.js';
import { splitPrn } from '../releases/prn.js';
import { dateField, stringField, type Operator, type SearchField, type SearchFields } from '../search.js';
import type {
  BundleSignatureRecord,
  CohortRecord,
  DeviceRecord,
  EventRecord,
  OverrideDeviceRecord,
  OverrideRecord,
  ProductRecord,
  ReleaseRecord,
} from '../releases/types.js';
import type { Columns } from './sqlite/list.js';
import { UniqueViolation } from './store.js';

/**
 * The release stores' rows, the same in SQLite and PostgreSQL: how they become records, which columns each
 * list can search (SQL both databases run), and the event list's filters.
 */

export type Row = Record<string, unknown>;

/** A searchable field: what the search language accepts for it, and the SQL expression over alias `t`. */
type Searchable = { field: SearchField; column: string };
const text = (column: string, ops?: Operator[]): Searchable => ({ field: stringField(ops), column });
const date = (column: string): Searchable => ({ field: dateField(), column });
// core's PRN parser knows the binary side's PRN types only, so a PRN here is compared as the text the
// column's id makes (ids and org are stored lowercase, as PRNs are written).
const idField = (column: string, type: string): Searchable =>
  text(`('prn:1:' || t.org || ':${type}:' || ${column})`);
const textPrn = (column: string): Searchable => text(column);

const SEARCHABLE: Record<string, Record<string, Searchable>> = {
  products: {
    // Bare `archived:true` / `archived:false`, compared as text since the search language has no boolean kind.
    archived: text("(CASE WHEN t.archived THEN 'true' ELSE 'false' END)"),
    inserted_at: date('t.inserted_at'),
    name: text('t.name', [':', '~']),
    prn: idField('t.id', 'product'),
    updated_at: date('t.updated_at'),
  },
  cohorts: {
    description: text('t.description', [':', '~']),
    inserted_at: date('t.inserted_at'),
    name: text('t.name', [':', '~', '-']),
    prn: idField('t.id', 'cohort'),
    product_prn: idField('t.product_id', 'product'),
    updated_at: date('t.updated_at'),
  },
  devices: {
    cohort_prn: idField('t.cohort_id', 'cohort'),
    description: text('t.description', [':', '~']),
    identifier: text('t.identifier', [':', '~']),
    inserted_at: date('t.inserted_at'),
    last_connected_at: date('t.last_connected_at'),
    prn: idField('t.id', 'device'),
    product_prn: idField('t.product_id', 'product'),
    reported_bundle_prn: textPrn('t.reported_bundle_prn'),
    reported_release_prn: textPrn('t.reported_release_prn'),
    reported_release_version: text('t.reported_release_version', [':', '~']),
    target: text('t.target', [':', '~']),
    updated_at: date('t.updated_at'),
  },
  bundles: {
    inserted_at: date('t.inserted_at'),
    name: text('t.name', [':', '~', '-']),
    prn: idField('t.id', 'bundle'),
    updated_at: date('t.updated_at'),
  },
  bundle_signatures: {
    bundle_prn: idField('t.bundle_id', 'bundle'),
    inserted_at: date('t.inserted_at'),
    prn: idField('t.id', 'bundle_signature'),
    signing_key_prn: idField('t.signing_key_id', 'signing_key'),
    updated_at: date('t.updated_at'),
  },
  releases: {
    cohort_prn: idField('t.cohort_id', 'cohort'),
    // Deleted releases are gone here, so `deleted_at` matches nothing but is accepted, as the spec lists it.
    deleted_at: date('NULL'),
    description: text('t.description', [':', '~']),
    inserted_at: date('t.inserted_at'),
    name: text('t.name', [':', '~']),
    next_release_prn: idField('t.next_release_id', 'release'),
    prn: idField('t.id', 'release'),
    updated_at: date('t.updated_at'),
    version: text('t.version', [':', '-']),
    version_requirement: text('t.version_requirement', [':', '-']),
  },
  bundle_overrides: {
    bundle_prn: idField('t.bundle_id', 'bundle'),
    inserted_at: date('t.inserted_at'),
    name: text('t.name', [':', '~', '-']),
    prn: idField('t.id', 'bundle_override'),
    updated_at: date('t.updated_at'),
  },
  bundle_override_devices: {},
  events: {},
};

/** Per table: the fields the search language accepts, and their SQL columns. */
export const SEARCH: Record<string, { fields: SearchFields; columns: Columns }> = Object.fromEntries(
  Object.entries(SEARCHABLE).map(([table, entries]) => [
    table,
    {
      fields: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.field])),
      columns: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.column])),
    },
  ]),
);

// SQLite keeps flags as 0/1, PostgreSQL as BOOLEAN.
const bool = (v: unknown) => v === 1 || v === 1n || v === true;
const json = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(v as string));

type Kind = 'bool' | 'json' | 'number';

/**
 * A row → record conversion: bookkeeping columns dropped, flags as booleans, JSON columns parsed. Built
 * once per record type: an update check converts every release of the cohort, and looking each column's
 * kind up in arrays per row was the largest part of its cost.
 */
function recordOf<T>(opts: { bools?: string[]; jsons?: string[]; numbers?: string[] } = {}): (r: Row) => T {
  const kinds = new Map<string, Kind>([
    ...(opts.bools ?? []).map((k): [string, Kind] => [k, 'bool']),
    ...(opts.jsons ?? []).map((k): [string, Kind] => [k, 'json']),
    ...(opts.numbers ?? []).map((k): [string, Kind] => [k, 'number']),
  ]);
  return (r) => {
    const out: Record<string, unknown> = {};
    for (const key in r) {
      // Bookkeeping: the insertion order, the organization, a counter, and (PostgreSQL) the inserting transaction.
      if (key === 'seq' || key === 'org' || key === 'claims' || key === 'xid') continue;
      const value = r[key];
      const kind = kinds.get(key);
      if (kind === 'bool') out[key] = bool(value);
      else if (kind === 'json') out[key] = json(value);
      else if (kind === 'number') out[key] = Number(value);
      else out[key] = typeof value === 'bigint' ? Number(value) : value;
    }
    return out as T;
  };
}

export const productOf = recordOf<ProductRecord>({ bools: ['archived'] });
export const cohortOf = recordOf<CohortRecord>();
export const signatureOf = recordOf<BundleSignatureRecord>();
export const overrideOf = recordOf<OverrideRecord>();
export const overrideDeviceOf = recordOf<OverrideDeviceRecord>();
export const eventOf = recordOf<EventRecord>({ jsons: ['data'] });
export const releaseOf = recordOf<ReleaseRecord>({
  bools: ['required', 'disabled'],
  jsons: ['phase_tags'],
  numbers: ['phase_value'],
});

const deviceFields = recordOf<Omit<DeviceRecord, 'reported'> & Record<string, string | null>>({
  bools: ['quarantined'],
  jsons: ['tags'],
});

export function deviceOf(r: Row): DeviceRecord {
  const { reported_release_prn, reported_bundle_prn, reported_release_version, ...rest } = deviceFields(r);
  return {
    ...rest,
    reported: {
      release_prn: reported_release_prn ?? null,
      bundle_prn: reported_bundle_prn ?? null,
      release_version: reported_release_version ?? null,
    },
  };
}

// The audit trail's extension types and subtypes (audit/event-names.ts) filter too.
const EVENT_TYPES = [...new Set(['device', 'webhook', 'api_key', ...AUDIT_EVENT_TYPES])];
const EVENT_SUBTYPES = [
  ...new Set([
    'release_changed',
    'claimed_release',
    'checked_for_release',
    'connected',
    'disconnected',
    'updated',
    'authentication_failed',
    'created',
    'request_failed',
    'test_fire',
    ...AUDIT_EVENT_SUBTYPES,
  ]),
];
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/**
 * The event list's filters (`type`, `subtype`, `resource_prn`, `actor_prn`, `inserted_at_lt`,
 * `inserted_at_gte`), validated: each a column of alias `t`, an operator and the value to compare with.
 */
export function eventFilters(query: URLSearchParams): { column: string; op: string; value: string }[] {
  const out: { column: string; op: string; value: string }[] = [];
  const type = query.get('type');
  if (type !== null) {
    if (!EVENT_TYPES.includes(type)) throw fieldError('type', `must be one of ${EVENT_TYPES.join(', ')}`);
    out.push({ column: 't.type', op: '=', value: type });
  }
  const subtype = query.get('subtype');
  if (subtype !== null) {
    if (!EVENT_SUBTYPES.includes(subtype))
      throw fieldError('subtype', `must be one of ${EVENT_SUBTYPES.join(', ')}`);
    out.push({ column: 't.subtype', op: '=', value: subtype });
  }
  for (const key of ['resource_prn', 'actor_prn'] as const) {
    const value = query.get(key);
    if (value === null) continue;
    if (!splitPrn(value)) throw fieldError(key, 'is invalid: must be a PRN');
    out.push({ column: `t.${key}`, op: '=', value });
  }
  for (const [key, op] of [
    ['inserted_at_lt', '<'],
    ['inserted_at_gte', '>='],
  ] as const) {
    const value = query.get(key);
    if (value === null) continue;
    if (!DATE.test(value))
      throw fieldError(key, "is invalid: must be a date-time like '2026-01-01T00:00:00Z'");
    // Stored timestamps carry microseconds: pad the given fraction so text comparison is time comparison.
    const padded = value.replace(/(\.\d+)?Z$/, (m, f: string | undefined) => `${(f ?? '.').padEnd(7, '0')}Z`);
    out.push({ column: 't.inserted_at', op, value: padded });
  }
  if (query.get('search'))
    throw fieldError(
      'search',
      'is not supported on events: use the type, subtype, resource_prn, actor_prn and inserted_at_* filters',
    );
  return out;
}

/** Both databases' unique-constraint failures arrive as a UniqueViolation (database.ts, pg/connection.ts). */
export function isUnique(err: unknown): boolean {
  return err instanceof UniqueViolation;
}
