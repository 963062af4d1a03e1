import { fieldError } from '../http.js';
import type { Json } from './types.js';

/** Body validators for release management; JSON null means "not given", as in ../fields.ts. */
type Body = Record<string, unknown>;

const given = (body: Body, key: string) => body[key] !== undefined && body[key] !== null;

export function optionalBoolean(body: Body, key: string): boolean | undefined {
  if (!given(body, key)) return undefined;
  if (typeof body[key] !== 'boolean') throw fieldError(key, 'is invalid: must be true or false');
  return body[key];
}

export function requiredBoolean(body: Body, key: string): boolean {
  const value = optionalBoolean(body, key);
  if (value === undefined) throw fieldError(key, "can't be blank: must be true or false");
  return value;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date-time with a zone, normalised to UTC with microseconds (how timestamps are written). */
export function optionalDateTime(body: Body, key: string): string | undefined {
  if (!given(body, key)) return undefined;
  const value = body[key];
  const ms = typeof value === 'string' && DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw fieldError(key, "is invalid: must be an ISO-8601 date-time such as '2026-01-01T00:00:00Z'");
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

export function requiredDateTime(body: Body, key: string): string {
  const value = optionalDateTime(body, key);
  if (value === undefined) throw fieldError(key, "can't be blank: give an ISO-8601 date-time");
  return value;
}

export function optionalTags(body: Body, key: string): string[] | undefined {
  if (!given(body, key)) return undefined;
  const value = body[key];
  if (
    !Array.isArray(value) ||
    !value.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 128)
  ) {
    throw fieldError(key, 'is invalid: must be an array of non-empty strings (at most 128 characters each)');
  }
  return [...new Set(value as string[])];
}

export function optionalObject(body: Body, key: string): Json | undefined {
  if (!given(body, key)) return undefined;
  const value = body[key];
  if (typeof value !== 'object' || Array.isArray(value))
    throw fieldError(key, 'is invalid: must be a JSON object');
  if (Buffer.byteLength(JSON.stringify(value)) > 1_000_000) throw fieldError(key, 'greater than 1MB');
  return value as Json;
}

/** A string field that may be set to null explicitly (PATCH): undefined = unchanged. */
export function nullableString(body: Body, key: string, max: number): string | null | undefined {
  if (!(key in body)) return undefined;
  const value = body[key];
  if (value === null) return null;
  if (typeof value !== 'string') throw fieldError(key, 'is invalid: must be a string or null');
  if (value.length < 1) throw fieldError(key, "can't be blank (use null to clear it)");
  if (value.length > max) throw fieldError(key, `should be at most ${max} character(s)`);
  return value;
}
