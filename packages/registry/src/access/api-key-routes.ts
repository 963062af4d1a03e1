import { fieldError, notFound } from '../http.js';
import { listRows } from '../list.js';
import { pathId, prn } from '../releases/prn.js';
import type { Route } from '../router.js';
import { dateField, stringField, type SearchFields } from '../search.js';
import type { AccessStore, ApiKeyRecord } from '../store/access-store.js';
import { createApiKey, parseExpiry } from './api-keys.js';
import { isRole, ROLES } from './roles.js';

/** An API key as the API shows it: never the key or its hash. */
export const apiKeyJson = (org: string, r: ApiKeyRecord) => ({
  prn: prn(org, 'api_key', r.id),
  name: r.name,
  role: r.role,
  expires_at: r.expires_at,
  revoked_at: r.revoked_at,
  inserted_at: r.inserted_at,
  updated_at: r.updated_at,
});

/** Reads `name`, `role`, `expires` (duration or date) as given by the API or the CLI; a bad one → 422. */
export function apiKeyInput(body: Record<string, unknown>): {
  name: string;
  role: ApiKeyRecord['role'];
  expiresAt: string | null;
} {
  const { name, role, expires } = body;
  if (typeof name !== 'string' || name.trim() === '') throw fieldError('name', "can't be blank");
  if (name.length > 200) throw fieldError('name', 'should be at most 200 character(s)');
  if (!isRole(role)) throw fieldError('role', `is invalid: must be one of ${ROLES.join(', ')}`);
  let expiresAt: string | null = null;
  if (expires !== undefined && expires !== null) {
    if (typeof expires !== 'string') throw fieldError('expires', "is invalid: must be a string like '90d'");
    const parsed = parseExpiry(expires);
    if ('error' in parsed) throw fieldError('expires', `is invalid: ${parsed.error}`);
    expiresAt = parsed.at;
  }
  return { name: name.trim(), role, expiresAt };
}

const SEARCH: SearchFields = {
  inserted_at: dateField(),
  name: stringField([':', '~', '-']),
  role: stringField(),
  updated_at: dateField(),
};

/** `/api_keys`: an extension of Peridio's API (which manages keys per user in its web console). */
export function apiKeyRoutes(access: AccessStore, org: string): Route[] {
  const find = async (value: string) => {
    const key = await access.getApiKey(pathId(org, value, 'api_key'));
    if (!key) throw notFound();
    return key;
  };
  return [
    {
      method: 'POST',
      pattern: '/api_keys',
      auth: true,
      async handler({ body }) {
        const { record, key } = await createApiKey(access, apiKeyInput(await body()));
        // The only time the key is shown.
        return { status: 201, body: { api_key: { ...apiKeyJson(org, record), key } } };
      },
    },
    {
      method: 'GET',
      pattern: '/api_keys',
      auth: true,
      async handler({ query }) {
        const page = await listRows({ org }, query, { list: (q) => access.pageApiKeys(q) }, SEARCH);
        return {
          status: 200,
          body: { api_keys: page.rows.map((k) => apiKeyJson(org, k)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/api_keys/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { api_key: apiKeyJson(org, await find(params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/api_keys/:prn',
      auth: true,
      async handler({ params, body }) {
        const key = await find(params.prn!);
        const input = await body();
        if (input.revoked !== true)
          throw fieldError('revoked', 'is invalid: the only change is {"revoked": true}');
        return {
          status: 200,
          body: { api_key: apiKeyJson(org, (await access.revokeApiKey(key.id, new Date().toISOString()))!) },
        };
      },
    },
    {
      method: 'DELETE',
      pattern: '/api_keys/:prn',
      auth: true,
      async handler({ params }) {
        // Revokes: the record stays, so the audit trail can still name the key.
        const key = await find(params.prn!);
        return {
          status: 200,
          body: { api_key: apiKeyJson(org, (await access.revokeApiKey(key.id, new Date().toISOString()))!) },
        };
      },
    },
  ];
}
