/**
 * Every route × every role, table-driven. The expectation is written here from the role descriptions of
 * docs/access-audit-webhooks.md, independently of src/access/roles.ts, so a wrong rule there fails here;
 * a route the expectation has never seen fails too.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../src/access/roles.js';
import type { TestRegistry } from '../support.js';
import { describeOnBackends } from './backends.js';

type Case = { method: string; pattern: string; body?: Record<string, unknown>; label?: string };

const resource = (pattern: string) => pattern.split('/')[1]!;
const PUBLISHED = ['artifacts', 'artifact_versions', 'binaries'];

/** Who may, per the role descriptions (the issue's words, restated). */
function expected(role: Role, c: Case): boolean {
  const { method, pattern } = c;
  // The console's static files are public: every call the page makes carries the user's key.
  if (pattern === '/health' || pattern.startsWith('/_presigned') || pattern.startsWith('/console'))
    return true;
  if (role === 'admin') return true;
  if (role === 'device-check') return method === 'POST' && pattern === '/devices/:prn/update';
  const r = resource(pattern);
  if (method === 'GET') return !['api_keys', 'webhooks'].includes(r);
  if (pattern === '/devices/:prn/update') return false;
  const state = c.body?.state;
  switch (role) {
    case 'reader':
      return false;
    case 'publisher':
      if (method === 'DELETE') return false;
      if (r === 'binaries' && (state === 'signed' || state === 'destroyed')) return false;
      return PUBLISHED.includes(r) || r === 'bundles';
    case 'signer':
      if (r === 'binaries' && method === 'PATCH') return state === 'signed';
      return r === 'binary_signatures' || r === 'bundle_signatures';
    case 'releaser':
      if (r === 'bundles') return method !== 'DELETE';
      return r === 'releases' || r === 'bundle_overrides';
  }
}

function cases(routes: readonly { method: string; pattern: string }[]): Case[] {
  const out: Case[] = [];
  for (const { method, pattern } of routes) {
    if (method === 'PATCH' && pattern === '/binaries/:prn') {
      for (const state of ['hashable', 'signed', 'destroyed'])
        out.push({ method, pattern, body: { state }, label: `state ${state}` });
    } else out.push({ method, pattern });
  }
  return out;
}

describeOnBackends('roles', (backend) => {
  let t: TestRegistry;
  const keys = {} as Record<Role, string>;

  beforeAll(async () => {
    t = await backend.start();
    for (const role of ROLES) {
      const res = await t.api('POST', '/api_keys', { name: `k-${role}`, role });
      expect(res.status).toBe(201);
      keys[role] = res.body.api_key.key;
    }
  });
  afterAll(() => t?.close());

  function path(pattern: string, org: string): string {
    return pattern.replace(/:(\w+)/g, (_m, name: string) => {
      if (name === 'index') return '1';
      const type = name === 'device' ? 'device' : 'x';
      return name === 'prn' || name === 'device' ? `prn:1:${org}:${type}:${randomUUID()}` : randomUUID();
    });
  }

  describe('route × role', () => {
    it('knows every route the registry serves (a new route needs a rule and an expectation)', () => {
      const known = new Set(t.registry.routes.map((r) => `${r.method} ${r.pattern}`));
      expect(known.size).toBeGreaterThan(60);
      for (const r of t.registry.routes) expect(typeof expected('publisher', r)).toBe('boolean');
    });

    it('allows or refuses each route for each role with the right status and message', async () => {
      const failures: string[] = [];
      for (const c of cases(t.registry.routes)) {
        for (const role of ROLES) {
          const res = await fetch(t.baseUrl + path(c.pattern, t.org), {
            method: c.method,
            headers: {
              authorization: `Token ${keys[role]}`,
              'content-type': 'application/json',
            },
            body: c.method === 'GET' ? undefined : JSON.stringify(c.body ?? {}),
          });
          const text = await res.text();
          const allowed = expected(role, c);
          const name = `${c.method} ${c.pattern}${c.label ? ` (${c.label})` : ''} as ${role}`;
          // A public route's own 403 (a presigned URL without its signature) is not the role check's.
          if (allowed && (res.status === 401 || (res.status === 403 && text.includes('needs an API key'))))
            failures.push(`${name}: expected allowed, got ${res.status} ${text}`);
          if (!allowed) {
            if (res.status !== 403) failures.push(`${name}: expected 403, got ${res.status}`);
            else if (!/needs an API key with role \S+/.test(text) || !text.includes(`has role ${role}`))
              failures.push(`${name}: 403 without the role needed: ${text}`);
          }
        }
      }
      expect(failures).toEqual([]);
    }, 120_000);

    it('names the least powerful role that may do it', async () => {
      const res = await t.api('POST', '/binary_signatures', {}, { authorization: `Token ${keys.publisher}` });
      expect(res.status).toBe(403);
      expect(res.body.errors.detail).toBe(
        "Forbidden: POST /binary_signatures needs an API key with role signer (or admin); the key 'k-publisher' has role publisher",
      );
      const keysRes = await t.api('POST', '/signing_keys', {}, { authorization: `Token ${keys.releaser}` });
      expect(keysRes.body.errors.detail).toMatch(/needs an API key with role admin;/);
    });
  });
});
