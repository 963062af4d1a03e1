import { parsePrn, type PrnType } from '@peridio-actions/core/base';
import type { RegistryContext } from './context.js';
import { fieldError, notFound } from './http.js';

/**
 * Request-body validation. JSON `null` means "not given" (the SDK sends absent optionals as null), and
 * keys nobody asked for are ignored.
 */
type Body = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// eslint-disable-next-line no-control-regex -- matching control characters is the point: fields refuse them.
const CONTROL = /[\u0000-\u001f\u007f]/;

export function given(body: Body, key: string): boolean {
  return body[key] !== undefined && body[key] !== null;
}

export function optionalString(body: Body, key: string, max: number, opts: { allowControl?: boolean } = {}) {
  if (!given(body, key)) return undefined;
  const value = body[key];
  if (typeof value !== 'string') throw fieldError(key, 'is invalid: must be a string');
  if (value.length < 1) throw fieldError(key, "can't be blank");
  if (value.length > max) throw fieldError(key, `should be at most ${max} character(s)`);
  // NUL is refused even where control characters are allowed: SQLite text ends at it, so it would not read back.
  if (value.includes('\u0000')) throw fieldError(key, 'must not contain NUL (\\u0000) characters');
  if (!opts.allowControl && CONTROL.test(value)) throw fieldError(key, 'must not contain control characters');
  return value;
}

export function requiredString(body: Body, key: string, max: number, opts: { allowControl?: boolean } = {}) {
  const value = optionalString(body, key, max, opts);
  if (value === undefined) throw fieldError(key, "can't be blank");
  return value;
}

const MAX_METADATA_BYTES = 1_000_000;

/** custom_metadata as stored JSON text, or undefined when not given. */
export function optionalMetadata(body: Body, key = 'custom_metadata'): string | undefined {
  if (!given(body, key)) return undefined;
  const value = body[key];
  if (typeof value !== 'object' || Array.isArray(value))
    throw fieldError(key, 'is invalid: must be a JSON object');
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) > MAX_METADATA_BYTES) throw fieldError(key, 'greater than 1MB');
  return text;
}

export function optionalInteger(body: Body, key: string, min: number, max: number): number | undefined {
  if (!given(body, key)) return undefined;
  const value = body[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw fieldError(key, 'is invalid: must be an integer');
  if (value < min) throw fieldError(key, `must be greater than or equal to ${min}`);
  if (value > max) throw fieldError(key, `must be less than or equal to ${max}`);
  return value;
}

export function requiredInteger(body: Body, key: string, min: number, max: number): number {
  const value = optionalInteger(body, key, min, max);
  if (value === undefined) throw fieldError(key, "can't be blank");
  return value;
}

/** A lowercase hex SHA-256; uppercase is accepted and lowered, a `sha256:` prefix is stripped. */
export function sha256Field(body: Body, key: string, required: true): string;
export function sha256Field(body: Body, key: string, required: false): string | undefined;
export function sha256Field(body: Body, key: string, required: boolean): string | undefined {
  if (!given(body, key)) {
    if (required) throw fieldError(key, "can't be blank");
    return undefined;
  }
  const value = body[key];
  const hex = typeof value === 'string' ? value.replace(/^sha256:/i, '').toLowerCase() : '';
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw fieldError(key, 'is invalid: must be the lowercase hex SHA-256 (64 characters)');
  return hex;
}

/** The optional client-chosen record id (`id`), a UUID. */
export function optionalId(body: Body): string | undefined {
  if (!given(body, 'id')) return undefined;
  const value = body.id;
  if (typeof value !== 'string' || !UUID.test(value)) throw fieldError('id', 'is invalid: must be a UUID');
  return value.toLowerCase();
}

/**
 * The record id named by a PRN in a path. Anything that is not a PRN of this type in this organization is
 * simply not found, so no path segment ever reaches the filesystem unchecked.
 */
export function idFromPathPrn(ctx: RegistryContext, value: string, type: PrnType): string {
  const prn = parsePrn(value);
  if (!prn || prn.type !== type || !prn.id || prn.org.toLowerCase() !== ctx.org) throw notFound();
  return prn.id.toLowerCase();
}

/** The record id named by a PRN in a body field: malformed → 422; another organization → 404. */
export function idFromBodyPrn(
  ctx: RegistryContext,
  body: Body,
  key: string,
  type: PrnType,
): string | undefined {
  if (!given(body, key)) return undefined;
  const value = body[key];
  const prn = typeof value === 'string' ? parsePrn(value) : undefined;
  if (!prn || prn.type !== type || !prn.id)
    throw fieldError(key, `is invalid: must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} PRN`);
  if (prn.org.toLowerCase() !== ctx.org) throw notFound(`${key} ${String(value)}`);
  return prn.id.toLowerCase();
}

export function requiredBodyPrn(ctx: RegistryContext, body: Body, key: string, type: PrnType): string {
  const id = idFromBodyPrn(ctx, body, key, type);
  if (id === undefined) throw fieldError(key, "can't be blank");
  return id;
}
