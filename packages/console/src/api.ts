/**
 * The Admin API from the browser: same origin, `Authorization: Token <key>`, version 2. The key lives in
 * sessionStorage only (gone with the tab), is never put in a URL and never logged.
 */
const KEY = 'peridio-console-api-key';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The API's own words: `errors.detail`, or the 422 field map flattened to "field message". */
export function apiMessage(status: number, body: unknown): string {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (errors && typeof errors === 'object') {
    const detail = (errors as { detail?: unknown }).detail;
    if (typeof detail === 'string') return detail;
    const parts = Object.entries(errors as Record<string, unknown>).map(
      ([field, messages]) => `${field} ${Array.isArray(messages) ? messages.join(', ') : String(messages)}`,
    );
    if (parts.length > 0) return parts.join('; ');
  }
  return `HTTP ${status}`;
}

export const session = {
  get: () => sessionStorage.getItem(KEY),
  set: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  key = session.get(),
): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: {
      authorization: `Token ${key ?? ''}`,
      'x-api-version': '2',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = undefined;
  }
  if (!response.ok) throw new ApiError(response.status, apiMessage(response.status, parsed));
  return parsed as T;
}

/** `/path?limit=..&search=..&page=..` with empty values left out. */
export function listPath(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** A search value in the API's query language: single-quoted, `\'` inside. */
export const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export interface Artifact {
  prn: string;
  name: string;
  description: string | null;
  inserted_at: string;
}
export interface ArtifactVersion {
  prn: string;
  version: string;
  artifact_prn: string;
  description: string | null;
  inserted_at: string;
}
export interface Binary {
  prn: string;
  artifact_version_prn: string;
  target: string;
  state: string;
  size: number | null;
  hash: string | null;
  description: string | null;
  custom_metadata: Record<string, unknown> | null;
  signatures: { signature: string; signing_key_prn: string; keyid?: string }[] | null;
  inserted_at: string;
  updated_at: string;
}
export interface BinaryPart {
  index: number;
  hash: string;
  size: number;
  state: string;
}
export interface SigningKey {
  prn: string;
  name: string;
  value: string;
  keyid: string;
  inserted_at: string;
}
