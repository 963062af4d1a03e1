import { useState } from 'preact/hooks';
import { api, listPath, quote, type SigningKey } from '../api.js';
import { Banner, formatDate, href, NextPage, Page, Unavailable, useApi } from '../ui.js';
import type { ListProps } from './browse.js';
import type { Bundle, Cohort, Device, PeridioEvent, Release } from './release-types.js';

export function KeysView() {
  const keys = useApi<{ signing_keys: SigningKey[] }>('/signing_keys?limit=100');
  return (
    <Page title="Signing keys">
      <Banner error={keys.error} />
      <table>
        <caption class="sr-only">Signing keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key id</th>
            <th scope="col">Public key</th>
            <th scope="col">Added</th>
          </tr>
        </thead>
        <tbody>
          {keys.data?.signing_keys.map((k) => (
            <tr key={k.prn}>
              <td>{k.name}</td>
              <td>
                <code>{k.keyid}</code>
              </td>
              <td>
                <code>{k.value}</code>
              </td>
              <td>{formatDate(k.inserted_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

export function EventsView({ query, navigate }: ListProps) {
  const type = query.get('type') ?? '';
  const resource = query.get('resource') ?? '';
  const page = query.get('page') ?? undefined;
  const [form, setForm] = useState({ type, resource });
  const events = useApi<{ events: PeridioEvent[]; next_page: string | null }>(
    listPath('/events', { limit: '50', order: 'desc', event_type: type, event_resource_prn: resource, page }),
  );
  return (
    <Page title="Events">
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(href('/events', { type: form.type || undefined, resource: form.resource || undefined }));
        }}
      >
        <label for="event-type">Type</label>
        <input
          id="event-type"
          value={form.type}
          onInput={(e) => setForm({ ...form, type: e.currentTarget.value })}
        />
        <label for="event-resource">Resource PRN</label>
        <input
          id="event-resource"
          value={form.resource}
          onInput={(e) => setForm({ ...form, resource: e.currentTarget.value })}
        />
        <button type="submit">Filter</button>
      </form>
      {events.missing ? <Unavailable what="The event log" /> : <Banner error={events.error} />}
      {events.data && (
        <>
          <table>
            <caption class="sr-only">Events</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col">Resource</th>
                <th scope="col">Actor</th>
              </tr>
            </thead>
            <tbody>
              {events.data.events.map((e) => (
                <tr>
                  <td>{formatDate(e.inserted_at)}</td>
                  <td>
                    {e.type}
                    {e.subtype ? ` / ${e.subtype}` : ''}
                  </td>
                  <td>
                    <code>{e.resource_prn ?? ''}</code>
                  </td>
                  <td>
                    <code>{e.actor_prn ?? ''}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <NextPage
            nextPage={events.data.next_page}
            go={(p) => navigate(href('/events', { type, resource, page: p }))}
            first={!page}
          />
        </>
      )}
    </Page>
  );
}

/** Releases ordered along next_release_prn: sources first, the sink (latest) last. */
export function orderReleases(releases: Release[]): Release[][] {
  const byPrn = new Map(releases.map((r) => [r.prn, r]));
  const depth = new Map<string, number>();
  const distance = (r: Release, seen = new Set<string>()): number => {
    if (depth.has(r.prn)) return depth.get(r.prn)!;
    const next = r.next_release_prn ? byPrn.get(r.next_release_prn) : undefined;
    const d = next && !seen.has(r.prn) ? distance(next, seen.add(r.prn)) + 1 : 0;
    depth.set(r.prn, d);
    return d;
  };
  const columns: Release[][] = [];
  const max = Math.max(0, ...releases.map((r) => distance(r)));
  for (const r of releases) (columns[max - distance(r)] ??= []).push(r);
  return columns.filter(Boolean);
}

function ReleaseGraph({
  releases,
  selected,
  select,
}: {
  releases: Release[];
  selected?: string;
  select: (prn: string) => void;
}) {
  const columns = orderReleases(releases);
  const W = 170;
  const H = 84;
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, c) => col.forEach((r, i) => pos.set(r.prn, { x: 20 + c * W, y: 20 + i * H })));
  const width = 20 + columns.length * W;
  const height = 20 + Math.max(1, ...columns.map((c) => c.length)) * H;
  const sink = releases.find((r) => !r.next_release_prn);
  return (
    <svg
      class="graph"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="group"
      aria-label="Release graph"
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="6"
          markerHeight="6"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
        </marker>
      </defs>
      {releases.map((r) => {
        const from = pos.get(r.prn)!;
        const to = r.next_release_prn ? pos.get(r.next_release_prn) : undefined;
        return to ? (
          <line
            class="edge"
            x1={from.x + 120}
            y1={from.y + 28}
            x2={to.x}
            y2={to.y + 28}
            marker-end="url(#arrow)"
          />
        ) : null;
      })}
      {releases.map((r) => {
        const { x, y } = pos.get(r.prn)!;
        const phase = r.phase_value === null ? 1 : r.phase_value <= 1 ? r.phase_value : 1;
        return (
          <g
            class={`node ${r.prn === sink?.prn ? 'latest' : ''} ${r.disabled ? 'disabled' : ''} ${r.prn === selected ? 'selected' : ''}`}
            tabindex={0}
            role="button"
            aria-label={`Release ${r.name} ${r.version ?? ''}${r.required ? ', required' : ''}${r.disabled ? ', disabled' : ''}`}
            onClick={() => select(r.prn)}
            onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && select(r.prn)}
          >
            <rect x={x} y={y} width="120" height="56" rx="8" />
            <text x={x + 10} y={y + 20}>
              {r.name}
              {r.prn === sink?.prn ? ' · latest' : ''}
            </text>
            <text x={x + 10} y={y + 38} class="small">
              {r.version ?? 'no version'} {r.required ? '● required' : ''} {r.disabled ? '⊘ disabled' : ''}
            </text>
            <rect x={x + 10} y={y + 46} width="100" height="4" class="phase-bg" />
            <rect x={x + 10} y={y + 46} width={100 * phase} height="4" class="phase" />
          </g>
        );
      })}
    </svg>
  );
}

export function ReleasesView({ query, navigate }: ListProps) {
  const cohorts = useApi<{ cohorts: Cohort[] }>('/cohorts?limit=100');
  const releases = useApi<{ releases: Release[] }>(cohorts.data ? '/releases?limit=100' : undefined);
  const selected = query.get('release') ?? undefined;
  const release = releases.data?.releases.find((r) => r.prn === selected);
  const bundle = useApi<{ bundle: Bundle }>(release && `/bundles/${release.bundle_prn}`);
  if (cohorts.missing)
    return (
      <Page title="Releases">
        <Unavailable what="Release management" />
      </Page>
    );
  return (
    <Page title="Releases">
      <Banner error={cohorts.error ?? releases.error} />
      {cohorts.data?.cohorts.map((c) => (
        <section aria-label={`Cohort ${c.name}`}>
          <h2>Cohort {c.name}</h2>
          <ReleaseGraph
            releases={releases.data?.releases.filter((r) => r.cohort_prn === c.prn) ?? []}
            selected={selected}
            select={(prn) => navigate(href('/releases', { release: prn }))}
          />
        </section>
      ))}
      {release && (
        <div class="card">
          <h3>Release {release.name}</h3>
          <p>
            Bundle <code>{release.bundle_prn}</code>
          </p>
          <ul>
            {bundle.data?.bundle.binaries?.map((b) => (
              <li>
                <a href={href(`/binaries/${b.prn}`)}>{b.prn}</a>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Page>
  );
}

export function DevicesView({ query, navigate }: ListProps) {
  const search = query.get('search') ?? '';
  const page = query.get('page') ?? undefined;
  const devices = useApi<{ devices: Device[]; next_page: string | null }>(
    listPath('/devices', { limit: '50', search: search ? `identifier~${quote(search)}` : undefined, page }),
  );
  const [checks, setChecks] = useState<Record<string, string>>({});
  const check = async (d: Device) => {
    try {
      const body: Record<string, unknown> = { write: false };
      if (d.reported_release_prn) body.release_prn = d.reported_release_prn;
      else if (d.reported_bundle_prn) body.bundle_prn = d.reported_bundle_prn;
      else if (d.reported_release_version) body.release_version = d.reported_release_version;
      const answer = await api<{ status: string; bundle_prn?: string }>(
        'POST',
        `/devices/${d.prn}/update`,
        body,
      );
      setChecks({
        ...checks,
        [d.prn]: answer.status === 'update' ? `update: ${answer.bundle_prn}` : answer.status,
      });
    } catch (err) {
      setChecks({ ...checks, [d.prn]: (err as Error).message });
    }
  };
  if (devices.missing)
    return (
      <Page title="Devices">
        <Unavailable what="Devices" />
      </Page>
    );
  return (
    <Page title="Devices">
      <Banner error={devices.error} />
      <table>
        <caption class="sr-only">Devices</caption>
        <thead>
          <tr>
            <th scope="col">Identifier</th>
            <th scope="col">Reported release</th>
            <th scope="col">Version</th>
            <th scope="col">Tags</th>
            <th scope="col">Update check</th>
          </tr>
        </thead>
        <tbody>
          {devices.data?.devices.map((d) => (
            <tr>
              <td>{d.identifier}</td>
              <td>
                <code>{d.reported_release_prn ?? '—'}</code>
              </td>
              <td>{d.reported_release_version ?? '—'}</td>
              <td>{(d.tags ?? []).join(', ')}</td>
              <td>
                <button
                  type="button"
                  onClick={() => void check(d)}
                  aria-label={`Check for an update for ${d.identifier}`}
                >
                  Check
                </button>{' '}
                <span role="status">{checks[d.prn] ?? ''}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <NextPage
        nextPage={devices.data?.next_page}
        go={(p) => navigate(href('/devices', { search, page: p }))}
        first={!page}
      />
    </Page>
  );
}
