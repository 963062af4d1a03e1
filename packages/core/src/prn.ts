import { InputError } from './errors.js';

export type PrnType =
  | 'artifact'
  | 'artifact_version'
  | 'binary'
  | 'binary_part'
  | 'binary_signature'
  | 'signing_key'
  // Release management.
  | 'product'
  | 'cohort'
  | 'device'
  | 'bundle'
  | 'bundle_signature'
  | 'bundle_override'
  | 'release';

const TYPES: readonly PrnType[] = [
  'artifact',
  'artifact_version',
  'binary',
  'binary_part',
  'binary_signature',
  'signing_key',
  'product',
  'cohort',
  'device',
  'bundle',
  'bundle_signature',
  'bundle_override',
  'release',
];
/** A UUID in its 8-4-4-4-12 hex form, either case: the id inside every PRN. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `prn:1:<org-uuid>` or `prn:1:<org-uuid>:<type>:<uuid>`: the forms the Peridio CLI accepts and the API issues. */
export function parsePrn(value: string): { org: string; type?: PrnType; id?: string } | undefined {
  const segments = value.split(':');
  if (segments[0] !== 'prn' || segments[1] !== '1') return undefined;
  const [, , org, type, id] = segments;
  if (!org || !UUID_PATTERN.test(org)) return undefined;
  if (segments.length === 3) return { org };
  if (segments.length !== 5 || !TYPES.includes(type as PrnType) || !id || !UUID_PATTERN.test(id))
    return undefined;
  return { org, type: type as PrnType, id };
}

export function isPrn(value: string, type?: PrnType): boolean {
  const prn = parsePrn(value);
  return prn !== undefined && (type === undefined || prn.type === type);
}

export function formatPrn(org: string, type?: PrnType, id?: string): string {
  return type === undefined ? `prn:1:${org}` : `prn:1:${org}:${type}:${id ?? ''}`;
}

/** Returns the trimmed PRN, or explains what shape was expected. */
export function requirePrn(value: string, type: PrnType, inputName: string): string {
  const trimmed = value.trim();
  if (!trimmed)
    throw new InputError(inputName, `is required (a ${type} PRN, prn:1:<org-uuid>:${type}:<uuid>)`);
  const prn = parsePrn(trimmed);
  if (prn?.type === type) return trimmed;
  const what = prn ? `a PRN of type '${prn.type ?? 'organization'}'` : 'not a PRN';
  throw new InputError(inputName, `'${trimmed}' is ${what}; expected prn:1:<org-uuid>:${type}:<uuid>`);
}
