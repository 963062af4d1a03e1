/** Scoped API keys for the registry's own tests. */
import { expect } from 'vitest';
import type { Role } from '../../src/access/roles.js';
import type { TestRegistry } from '../support.js';

export async function makeKey(t: TestRegistry, role: Role, extra: Record<string, unknown> = {}) {
  const res = await t.api('POST', '/api_keys', { name: `${role}-key`, role, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.api_key as { prn: string; key: string; name: string; role: Role };
}

/** The same registry, spoken to with another key. */
export function as(t: TestRegistry, key: string): TestRegistry {
  return {
    ...t,
    api: (method, path, body, headers = {}) =>
      t.api(method, path, body, { authorization: `Token ${key}`, ...headers }),
  };
}

/** All events, oldest first, through the API (following next_page). */
export async function allEvents(t: TestRegistry, filters: Record<string, string> = {}) {
  const out: any[] = [];
  let page: string | null = null;
  do {
    const q: URLSearchParams = new URLSearchParams({
      limit: '100',
      order: 'asc',
      ...filters,
      ...(page ? { page } : {}),
    });
    const res: { status: number; body: any } = await t.api('GET', `/events?${q.toString()}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    out.push(...res.body.events);
    page = res.body.next_page;
  } while (page);
  return out;
}
