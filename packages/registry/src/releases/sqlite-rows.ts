import type { SQLInputValue } from 'node:sqlite';
import { dateField, stringField, type SearchField, type SearchFields } from '../search.js';
import type {
  BundleSignatureRecord,
  CohortRecord,
  DeviceRecord,
  EventRecord,
  OverrideDeviceRecord,
  OverrideRecord,
  ProductRecord,
  ReleaseRecord,
} from './types.js';

/** The SQLite store's rows: how they become records, and which columns each list can search. */

export type Row = Record<string, SQLInputValue>;

// search.ts's PRN kind parses with the binary side's PRN types only, so a PRN here is compared as the text
// the column's id makes (ids and org are stored lowercase, as PRNs are written).
const idField = (column: string, type: string): SearchField =>
  stringField(`('prn:1:' || t.org || ':${type}:' || ${column})`);
const textPrn = (column: string): SearchField => stringField(column);

export const SEARCH: Record<string, SearchFields> = {
  products: {
    // Bare `archived:true` / `archived:false`, compared as text since search.ts has no boolean kind.
    archived: stringField("(CASE WHEN t.archived THEN 'true' ELSE 'false' END)"),
    inserted_at: dateField('t.inserted_at'),
    name: stringField('t.name', [':', '~']),
    prn: idField('t.id', 'product'),
    updated_at: dateField('t.updated_at'),
  },
  cohorts: {
    description: stringField('t.description', [':', '~']),
    inserted_at: dateField('t.inserted_at'),
    name: stringField('t.name', [':', '~', '-']),
    prn: idField('t.id', 'cohort'),
    product_prn: idField('t.product_id', 'product'),
    updated_at: dateField('t.updated_at'),
  },
  devices: {
    cohort_prn: idField('t.cohort_id', 'cohort'),
    description: stringField('t.description', [':', '~']),
    identifier: stringField('t.identifier', [':', '~']),
    inserted_at: dateField('t.inserted_at'),
    last_connected_at: dateField('t.last_connected_at'),
    prn: idField('t.id', 'device'),
    product_prn: idField('t.product_id', 'product'),
    reported_bundle_prn: textPrn('t.reported_bundle_prn'),
    reported_release_prn: textPrn('t.reported_release_prn'),
    reported_release_version: stringField('t.reported_release_version', [':', '~']),
    target: stringField('t.target', [':', '~']),
    updated_at: dateField('t.updated_at'),
  },
  bundles: {
    inserted_at: dateField('t.inserted_at'),
    name: stringField('t.name', [':', '~', '-']),
    prn: idField('t.id', 'bundle'),
    updated_at: dateField('t.updated_at'),
  },
  bundle_signatures: {
    bundle_prn: idField('t.bundle_id', 'bundle'),
    inserted_at: dateField('t.inserted_at'),
    prn: idField('t.id', 'bundle_signature'),
    signing_key_prn: idField('t.signing_key_id', 'signing_key'),
    updated_at: dateField('t.updated_at'),
  },
  releases: {
    cohort_prn: idField('t.cohort_id', 'cohort'),
    // Deleted releases are gone here, so `deleted_at` matches nothing but is accepted, as the spec lists it.
    deleted_at: dateField('NULL'),
    description: stringField('t.description', [':', '~']),
    inserted_at: dateField('t.inserted_at'),
    name: stringField('t.name', [':', '~']),
    next_release_prn: idField('t.next_release_id', 'release'),
    prn: idField('t.id', 'release'),
    updated_at: dateField('t.updated_at'),
    version: stringField('t.version', [':', '-']),
    version_requirement: stringField('t.version_requirement', [':', '-']),
  },
  bundle_overrides: {
    bundle_prn: idField('t.bundle_id', 'bundle'),
    inserted_at: dateField('t.inserted_at'),
    name: stringField('t.name', [':', '~', '-']),
    prn: idField('t.id', 'bundle_override'),
    updated_at: dateField('t.updated_at'),
  },
  bundle_override_devices: {},
  events: {},
};

const bool = (v: SQLInputValue | undefined) => v === 1 || v === 1n;
const json = (v: SQLInputValue | undefined): unknown =>
  v === null || v === undefined ? null : JSON.parse(String(v));

/** A row as a record: bookkeeping columns dropped, flags as booleans, JSON columns parsed. */
function recordOf<T>(r: Row, opts: { bools?: string[]; jsons?: string[]; numbers?: string[] } = {}): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(r)) {
    if (key === 'seq' || key === 'org' || key === 'claims') continue;
    if (opts.bools?.includes(key)) out[key] = bool(value);
    else if (opts.jsons?.includes(key)) out[key] = json(value);
    else if (opts.numbers?.includes(key)) out[key] = Number(value);
    else out[key] = typeof value === 'bigint' ? Number(value) : value;
  }
  return out as T;
}

export const productOf = (r: Row) => recordOf<ProductRecord>(r, { bools: ['archived'] });
export const cohortOf = (r: Row) => recordOf<CohortRecord>(r);
export const signatureOf = (r: Row) => recordOf<BundleSignatureRecord>(r);
export const overrideOf = (r: Row) => recordOf<OverrideRecord>(r);
export const overrideDeviceOf = (r: Row) => recordOf<OverrideDeviceRecord>(r);
export const eventOf = (r: Row) => recordOf<EventRecord>(r, { jsons: ['data'] });
export const releaseOf = (r: Row) =>
  recordOf<ReleaseRecord>(r, {
    bools: ['required', 'disabled'],
    jsons: ['phase_tags'],
    numbers: ['phase_value'],
  });

export function deviceOf(r: Row): DeviceRecord {
  const { reported_release_prn, reported_bundle_prn, reported_release_version, ...rest } = recordOf<
    Omit<DeviceRecord, 'reported'> & Record<string, string | null>
  >(r, { bools: ['quarantined'], jsons: ['tags'] });
  return {
    ...rest,
    reported: {
      release_prn: reported_release_prn ?? null,
      bundle_prn: reported_bundle_prn ?? null,
      release_version: reported_release_version ?? null,
    },
  } as DeviceRecord;
}

export const EVENT_TYPES = ['device', 'webhook', 'api_key'];
export const EVENT_SUBTYPES = [
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
];
export const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export function isUnique(err: unknown): boolean {
  return /UNIQUE constraint failed/.test(String((err as Error)?.message));
}
