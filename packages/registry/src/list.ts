import type { RegistryContext } from './context.js';
import { fieldError } from './http.js';
import { compileSearch, type SearchFields } from './search.js';
import type { Listable } from './store/store.js';

/**
 * `limit` (1..100, default 10), `order` by insertion (`asc` default), `search`, and an opaque `page` cursor
 * that carries the position, the order and the search, so following `next_page` alone continues the listing.
 */
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

interface Cursor {
  s: number;
  o: 'asc' | 'desc';
  q: string | null;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(page: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(page, 'base64url').toString('utf8')) as Cursor;
    if (Number.isSafeInteger(cursor.s) && (cursor.o === 'asc' || cursor.o === 'desc')) {
      return { s: cursor.s, o: cursor.o, q: typeof cursor.q === 'string' ? cursor.q : null };
    }
  } catch {
    /* fall through */
  }
  throw fieldError('page', 'is invalid: pass the next_page value of a previous response');
}

function parseLimit(value: string | null): number {
  if (value === null || value === '') return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw fieldError('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

export async function listRows<T extends { seq: number }>(
  ctx: RegistryContext,
  query: URLSearchParams,
  repo: Listable<T>,
  fields: SearchFields,
): Promise<{ rows: T[]; next_page: string | null }> {
  const limit = parseLimit(query.get('limit'));
  const page = query.get('page');
  let cursor: Cursor;
  if (page) {
    cursor = decodeCursor(page);
  } else {
    const order = query.get('order') ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw fieldError('order', 'must be asc or desc');
    cursor = { s: order === 'asc' ? 0 : Number.MAX_SAFE_INTEGER, o: order, q: query.get('search') };
  }
  const filters = compileSearch(cursor.q, fields);
  const { rows, more } = await repo.list({ org: ctx.org, limit, order: cursor.o, after: cursor.s, filters });
  const last = rows[rows.length - 1];
  return {
    rows,
    next_page: more && last ? encodeCursor({ s: last.seq, o: cursor.o, q: cursor.q }) : null,
  };
}
