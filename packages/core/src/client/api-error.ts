/**
 * Turns a non-2xx answer into an `ApiError` a user can act on. Peridio has answered with several body
 * shapes over the years (`errors` as a string, as a field map, `message`, plain text); each is reduced to one human sentence plus, for validation
 * errors, the field map, so callers can branch on `fieldErrors.target` without knowing the shape.
 */
import { STATUS_CODES } from 'node:http';
import { ApiError } from '../errors.js';
import { redactSecrets } from '../redact.js';
import { parseRetryAfter } from '../retry.js';

export interface ErrorDescription {
  detail: string;
  fieldErrors: Record<string, string[]>;
}

export interface ApiErrorInput {
  status: number;
  method: string;
  path: string;
  /** The raw response body (may be empty, JSON or text). */
  body: string;
  retryAfter?: string | null;
  /** Strings that must never reach the message (the API key; servers echo it in 401 contexts). */
  secrets?: string[];
  nowMs?: number;
}

const MAX_DETAIL_CHARS = 500;
/** Context keys of the legacy shape that may carry credentials; the old API echoed `api_key` on 401. */
const SECRET_KEY = /key|token|secret|password|authorization|credential/i;

export function parseApiError(input: ApiErrorInput): ApiError {
  const { detail, fieldErrors } = describeErrorBody(input.status, input.body);
  const secrets = input.secrets ?? [];
  const redactedFields: Record<string, string[]> = {};
  for (const [field, messages] of Object.entries(fieldErrors)) {
    redactedFields[field] = messages.map((message) => redactSecrets(message, secrets));
  }
  return new ApiError(
    input.status,
    input.method,
    input.path,
    redactSecrets(detail, secrets),
    redactedFields,
    parseRetryAfter(input.retryAfter, input.nowMs),
  );
}

/** Reads every body shape the SDK accepts, plus the legacy `{code, context}` list and plain text. */
export function describeErrorBody(status: number, body: string): ErrorDescription {
  const fallback = STATUS_CODES[status] ?? `HTTP ${status}`;
  const text = body.trim();
  if (!text) return { detail: fallback, fieldErrors: {} };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // A web server's or proxy's error page: its markup would fill the annotation; its title says enough.
    if (/^</.test(text)) return { detail: htmlReason(fallback, text), fieldErrors: {} };
    return { detail: truncate(text.replace(/\s+/g, ' ')), fieldErrors: {} };
  }
  return describeJson(json) ?? { detail: truncate(JSON.stringify(json)), fieldErrors: {} };
}

function describeJson(json: unknown): ErrorDescription | undefined {
  if (!isObject(json))
    return typeof json === 'string' && json ? { detail: truncate(json), fieldErrors: {} } : undefined;
  const { errors } = json;
  if (isObject(errors)) {
    if (typeof errors.detail === 'string') return { detail: truncate(errors.detail), fieldErrors: {} };
    const fieldErrors = flattenFieldErrors(errors);
    if (Object.keys(fieldErrors).length > 0) return { detail: validationSentence(fieldErrors), fieldErrors };
  }
  if (Array.isArray(errors) && errors.length > 0) return describeLegacy(errors);
  for (const key of ['message', 'error', 'detail', 'status'] as const) {
    const value = json[key];
    if (typeof value === 'string' && value) return { detail: truncate(value), fieldErrors: {} };
  }
  return undefined;
}

/** Ecto-style `{field: [msg]}`, nested for embedded changesets (`{custom_metadata: {foo: [msg]}}`). */
function flattenFieldErrors(errors: Record<string, unknown>, prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(errors)) {
    const field = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out[field] = [value];
    else if (Array.isArray(value)) {
      const messages = value.filter((m): m is string => typeof m === 'string');
      if (messages.length > 0) out[field] = messages;
    } else if (isObject(value)) Object.assign(out, flattenFieldErrors(value, field));
  }
  return out;
}

/** `target has already been taken; name can't be blank, is invalid` — reads like the server's own words. */
function validationSentence(fieldErrors: Record<string, string[]>): string {
  return truncate(
    Object.entries(fieldErrors)
      .map(([field, messages]) => `${field} ${messages.join(', ')}`)
      .join('; '),
  );
}

/** `{"errors":[{"code":"parameter","context":{"parameter":"number","reason":"required"}}]}`. */
function describeLegacy(errors: unknown[]): ErrorDescription {
  const fieldErrors: Record<string, string[]> = {};
  const parts = errors.map((entry) => {
    if (!isObject(entry)) return String(entry);
    const code = typeof entry.code === 'string' ? entry.code : 'error';
    const context = isObject(entry.context) ? entry.context : {};
    if (typeof context.parameter === 'string' && typeof context.reason === 'string') {
      (fieldErrors[context.parameter] ??= []).push(context.reason);
    }
    const shown = Object.entries(context)
      .filter(([key, value]) => value !== null && value !== undefined && !SECRET_KEY.test(key))
      .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    return shown.length > 0 ? `${code} (${shown.join(', ')})` : code;
  });
  return { detail: truncate(parts.join('; ')), fieldErrors };
}

function htmlReason(fallback: string, html: string): string {
  const title = /<title[^>]*>([^<]{1,120})<\/title>/i.exec(html)?.[1]?.replace(/\s+/g, ' ').trim();
  return title && title !== fallback
    ? `${fallback} (an HTML page titled "${title}")`
    : `${fallback} (an HTML page)`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function truncate(text: string): string {
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;
}
