import type { SQLInputValue } from 'node:sqlite';
import { AUDIT_EVENT_SUBTYPES, AUDIT_EVENT_TYPES } from '../../audit/event-names.js';
import { dateField, stringField, type Operator, type SearchField, type SearchFields } from '../../search.js';
import type {
  BundleSignatureRecord,
  CohortRecord,
  DeviceRecord,
  EventRecord,
  OverrideDeviceRecord,
  OverrideRecord,
  ProductRecord,
  ReleaseRecord,
} from '../../releases/types.js';
import { UniqueViolation } from '../store.js';
import type { Columns } from './list.js';

/** The SQLite release store's rows: how they become records, and which columns each list can search. */

export type Row = Record<string, SQLInputValue>;

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

const bool = (v: SQLInputValue | undefined) => v === 1 || v === 1n;
const json = (v: SQLInputValue | undefined): unknown =>
  v === null || v === undefined ? null : JSON.parse(v as string);

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
      if (key === 'seq' || key === 'org' || key === 'claims') continue;
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
export const EVENT_TYPES = [...new Set(['device', 'webhook', 'api_key', ...AUDIT_EVENT_TYPES])];
export const EVENT_SUBTYPES = [
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
export const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** database.ts turns SQLite's unique-constraint failure into a UniqueViolation. */
export function isUnique(err: unknown): boolean {
  return err instanceof UniqueViolation;
}
