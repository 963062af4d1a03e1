/** The release graph of each cohort and a selected release's bundle and binaries (`#/releases`). */
import type { Binary } from '../api.js';
import { Banner, formatBytes, formatDate, href, Page, Unavailable, useApi } from '../ui.js';
import type { ListProps } from './browse.js';
import type { Bundle, Cohort, Release } from './release-types.js';

/** A release's phase as people say it: a share of the cohort, a device count, or the tags it goes to. */
export function phaseLabel(r: Release): string {
  if (r.phase_mode === 'tags') return `tags ${(r.phase_tags ?? []).join(', ')}`;
  const v = r.phase_value ?? 1;
  if (v > 1) return `${v} devices`;
  return `${Math.round(v * 1000) / 10} %`;
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
        // The bar shows a share; a device count or a tag phase has no share of its own to draw.
        const share = r.phase_mode !== 'tags' && (r.phase_value ?? 1) <= 1 ? (r.phase_value ?? 1) : 1;
        return (
          <g
            class={`node ${r.prn === sink?.prn ? 'latest' : ''} ${r.disabled ? 'disabled' : ''} ${r.prn === selected ? 'selected' : ''}`}
            tabindex={0}
            role="button"
            aria-label={`Release ${r.name} ${r.version ?? ''}, ${phaseLabel(r)}${r.required ? ', required' : ''}${r.disabled ? ', disabled' : ''}`}
            onClick={() => select(r.prn)}
            onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && select(r.prn)}
          >
            <rect x={x} y={y} width="120" height="56" rx="8" />
            <text x={x + 10} y={y + 20}>
              {r.name}
              {r.prn === sink?.prn ? ' · latest' : ''}
            </text>
            <text x={x + 10} y={y + 38} class="small">
              {r.version ?? 'no version'} · {phaseLabel(r)} {r.required ? '● req.' : ''}{' '}
              {r.disabled ? '⊘ off' : ''}
            </text>
            <rect x={x + 10} y={y + 46} width="100" height="4" class="phase-bg" />
            <rect x={x + 10} y={y + 46} width={100 * share} height="4" class="phase" />
          </g>
        );
      })}
    </svg>
  );
}

/** One binary of a bundle, in bundle order: its link, and what it is once its record is in. */
function BundleBinary({ prn }: { prn: string }) {
  const record = useApi<{ binary: Binary }>(`/binaries/${prn}`);
  const b = record.data?.binary;
  return (
    <li>
      <a href={href(`/binaries/${prn}`)}>{prn}</a>
      {b && (
        <span class="hint">
          {' '}
          {b.target} · <span class={`badge state-${b.state}`}>{b.state}</span> · {formatBytes(b.size)}
        </span>
      )}
    </li>
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
        <div class="card release-card">
          <h3>Release {release.name}</h3>
          <p>
            Version {release.version ?? '—'} · phase {phaseLabel(release)}
            {release.required ? ' · required' : ''}
            {release.disabled ? ' · disabled' : ''} · scheduled {formatDate(release.schedule_date)}
          </p>
          <p>
            Bundle {bundle.data?.bundle.name ?? ''} <code>{release.bundle_prn}</code>
          </p>
          <Banner error={bundle.error} />
          <ol aria-label="Bundle binaries">
            {bundle.data?.bundle.binaries?.map((b) => (
              <BundleBinary prn={b.prn} />
            ))}
          </ol>
        </div>
      )}
    </Page>
  );
}
