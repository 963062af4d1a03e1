/** Walking a list endpoint page by page, the one way every caller does it. */
import { PeridioError } from './errors.js';
import type { ListParams, Page } from './types.js';

/** Every item of a list, following `next_page`; a caller that stops iterating stops the paging. */
export async function* iteratePages<T>(
  list: (params: ListParams) => Promise<Page<T>>,
  params: ListParams = {},
): AsyncGenerator<T> {
  let page: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const result = await list(page === undefined ? { ...params } : { ...params, page });
    yield* result.items;
    if (!result.next_page) return;
    // A server that hands back a cursor twice would otherwise page forever.
    if (seen.has(result.next_page)) {
      throw new PeridioError(`the server returned the page cursor "${result.next_page}" twice; stopping`);
    }
    seen.add(result.next_page);
    page = result.next_page;
  }
}

/** The first item `match` accepts, reading no further page than needed. */
export async function findFirst<T>(
  list: (params: ListParams) => Promise<Page<T>>,
  params: ListParams,
  match: (item: T) => boolean,
): Promise<T | undefined> {
  for await (const item of iteratePages(list, params)) if (match(item)) return item;
  return undefined;
}
