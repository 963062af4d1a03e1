/**
 * Unwraps the Admin API envelopes (`{"binary": {...}}`, `{"binaries": [...], "next_page": ...}`). A
 * missing key means the URL points at something that is not a Peridio Admin API (a proxy, a login
 * page), so the error says that instead of failing later on an undefined field.
 */
import { PeridioError } from '../errors.js';
import type { HttpRequest } from './http.js';

export function expectObject<T>(body: unknown, key: string, req: HttpRequest): T {
  const value = isRecord(body) ? body[key] : undefined;
  if (!isRecord(value)) throw missing(key, 'an object', req);
  return value as T;
}

export function expectArray<T>(body: unknown, key: string, req: HttpRequest, altKey?: string): T[] {
  if (isRecord(body)) {
    if (Array.isArray(body[key])) return body[key] as T[];
    if (altKey !== undefined && Array.isArray(body[altKey])) return body[altKey] as T[];
  }
  throw missing(key, 'a list', req);
}

export function expectString(body: unknown, key: string, req: HttpRequest): string {
  const value = isRecord(body) ? body[key] : undefined;
  if (typeof value !== 'string' || !value) throw missing(key, 'a string', req);
  return value;
}

export function nextPageOf(body: unknown): string | null {
  const next = isRecord(body) ? body.next_page : undefined;
  return typeof next === 'string' && next !== '' ? next : null;
}

function missing(key: string, what: string, req: HttpRequest): PeridioError {
  return new PeridioError(
    `${req.method} ${req.path}: the response has no "${key}" (${what}); is the base URL a Peridio Admin API?`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
