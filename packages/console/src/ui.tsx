import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';

export const formatBytes = (n: number | null | undefined) => {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
};

export const formatDate = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';

/** `#/path?query` links: hash routing keeps every page a shareable URL and the back button working. */
export const href = (path: string, query: Record<string, string | undefined> = {}) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  const text = q.toString();
  return `#${path}${text ? `?${text}` : ''}`;
};

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge state-${state}`}>{state}</span>;
}

export function Banner({ error }: { error: unknown }) {
  if (!error) return null;
  // A thrown value that is not an Error is shown as JavaScript prints it; there is nothing better to say.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div class="banner" role="alert">
      {error instanceof ApiError ? `The registry answered ${error.status}: ${message}` : message}
    </div>
  );
}

export function Progress({ label, value, max }: { label: string; value: number; max: number }) {
  const percent = max > 0 ? Math.min(100, (value / max) * 100) : 100;
  return (
    <div class="progress-row">
      <progress aria-label={label} value={value} max={max || 1} />
      <span class="progress-text">{percent.toFixed(0)} %</span>
    </div>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  /** The API answered 404 for the collection itself: the feature is not on this registry. */
  missing: boolean;
  reload: () => void;
}

/** GETs `path`; again every `pollMs` while `poll` says so. */
export function useApi<T>(path: string | undefined, poll?: (data: T) => boolean, pollMs = 1000): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; missing: boolean }>({ missing: false });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    api<T>('GET', path)
      .then((data) => {
        if (cancelled) return;
        setState({ data, missing: false });
        if (poll?.(data)) timer = setTimeout(() => setTick((t) => t + 1), pollMs);
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        setState({ error, missing: error instanceof ApiError && error.status === 404 });
      });
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [path, tick]);
  return { ...state, data: state.data, error: state.error, reload: () => setTick((t) => t + 1) };
}

export function Unavailable({ what }: { what: string }) {
  return (
    <div class="notice" role="status">
      {what} is not available on this registry: the API answered 404. This page lights up when the registry
      serves release management.
    </div>
  );
}

export function Page({ title, children }: { title: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="page" aria-labelledby="page-title">
      <h1 id="page-title">{title}</h1>
      {children}
    </section>
  );
}

export function Crumbs({ items }: { items: { label: string; to?: string }[] }) {
  return (
    <nav aria-label="Breadcrumb" class="crumbs">
      <ol>
        {items.map((item) => (
          <li>
            {item.to ? <a href={item.to}>{item.label}</a> : <span aria-current="page">{item.label}</span>}
          </li>
        ))}
      </ol>
    </nav>
  );
}

export function SearchForm({
  value,
  onSearch,
  label,
}: {
  value: string;
  onSearch: (v: string) => void;
  label: string;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <form
      class="search"
      role="search"
      onSubmit={(event) => {
        event.preventDefault();
        onSearch(text);
      }}
    >
      <label for="search">{label}</label>
      <input id="search" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <button type="submit">Search</button>
    </form>
  );
}

export function NextPage({
  nextPage,
  go,
  first,
}: {
  nextPage: string | null | undefined;
  go: (page: string) => void;
  first: boolean;
}) {
  return (
    <div class="pager">
      <button type="button" disabled={first} onClick={() => history.back()}>
        Previous page
      </button>
      <button type="button" disabled={!nextPage} onClick={() => nextPage && go(nextPage)}>
        Next page
      </button>
    </div>
  );
}
