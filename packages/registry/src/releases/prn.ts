import { UUID_PATTERN } from '@peridio-actions/core/base';
import { fieldError, notFound } from '../http.js';

const UUID = UUID_PATTERN;

export function prn(org: string, type: string, id: string): string {
  return `prn:1:${org}:${type}:${id}`;
}

/** `{org, type, id}` of a well-formed resource PRN of any type, lowercased; else undefined. */
export function splitPrn(value: unknown): { org: string; type: string; id: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.split(':');
  if (s.length !== 5 || s[0] !== 'prn' || s[1] !== '1' || !UUID.test(s[2]!) || !UUID.test(s[4]!))
    return undefined;
  return { org: s[2]!.toLowerCase(), type: s[3]!, id: s[4]!.toLowerCase() };
}

/** The id named by a path PRN; anything else (malformed, other type, other organization) is 404. */
export function pathId(org: string, value: string, type: string): string {
  const p = splitPrn(value);
  if (!p || p.type !== type || p.org !== org) throw notFound();
  return p.id;
}

/** The id named by a body PRN: malformed or of another type → 422 naming the field; another org → 404. */
export function bodyId(
  org: string,
  body: Record<string, unknown>,
  key: string,
  type: string,
): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  const p = splitPrn(value);
  if (!p || p.type !== type)
    throw fieldError(key, `is invalid: must be a ${type} PRN (prn:1:<org-uuid>:${type}:<uuid>)`);
  if (p.org !== org) throw notFound(`${key} ${value as string}`);
  return p.id;
}

export function requiredBodyId(
  org: string,
  body: Record<string, unknown>,
  key: string,
  type: string,
): string {
  const id = bodyId(org, body, key, type);
  if (id === undefined) throw fieldError(key, `can't be blank: give a ${type} PRN`);
  return id;
}
