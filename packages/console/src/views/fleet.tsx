import { useState } from 'preact/hooks';
import { api, listPath, quote, type SigningKey } from '../api.js';
import { Banner, formatDate, href, NextPage, Page, Unavailable, useApi } from '../ui.js';
import type { ListProps } from './browse.js';
import type { Bundle, Device, PeridioEvent, Release } from './release-types.js';

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

/** The values the API accepts for `type` and `subtype` (anything else is a 422). */
const EVENT_TYPES = ['device', 'webhook', 'api_key'];
const EVENT_SUBTYPES = ['checked_for_release', 'claimed_release', 'release_changed', 'connected'];

export function EventsView({ query, navigate }: ListProps) {
  const type = query.get('type') ?? '';
  const subtype = query.get('subtype') ?? '';
  const resource = query.get('resource') ?? '';
  const page = query.get('page') ?? undefined;
  const [form, setForm] = useState({ type, subtype, resource });
  // The API does not carry the filters in next_page, so every page request sends them again.
  const events = useApi<{ events: PeridioEvent[]; next_page: string | null }>(
    listPath('/events', { limit: '50', order: 'desc', type, subtype, resource_prn: resource, page }),
  );
  const filters = (f: typeof form, p?: string) =>
    href('/events', {
      type: f.type || undefined,
      subtype: f.subtype || undefined,
      resource: f.resource || undefined,
      page: p,
    });
  const choice = (id: string, label: string, key: 'type' | 'subtype', values: string[]) => (
    <>
      <label for={id}>{label}</label>
      <select id={id} value={form[key]} onChange={(e) => setForm({ ...form, [key]: e.currentTarget.value })}>
        <option value="">any</option>
        {values.map((v) => (
          <option value={v}>{v}</option>
        ))}
      </select>
    </>
  );
  return (
    <Page title="Events">
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(filters(form));
        }}
      >
        {choice('event-type', 'Type', 'type', EVENT_TYPES)}
        {choice('event-subtype', 'Subtype', 'subtype', EVENT_SUBTYPES)}
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
                    {e.event_subtype ? ` / ${e.event_subtype}` : ''}
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
          {events.data.events.length === 0 && <p>No events match.</p>}
          <NextPage
            nextPage={events.data.next_page}
            go={(p) => navigate(filters({ type, subtype, resource }, p))}
            first={!page}
          />
        </>
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
  // Names for the PRNs a device reports and a check answers; PRNs stand in while (or if) these are not in.
  const releases = useApi<{ releases: Release[] }>('/releases?limit=100');
  const bundles = useApi<{ bundles: Bundle[] }>('/bundles?limit=100');
  const releaseName = (p: string | null | undefined) =>
    releases.data?.releases.find((r) => r.prn === p)?.name;
  const bundleName = (p: string | null | undefined) => bundles.data?.bundles.find((b) => b.prn === p)?.name;
  const [checks, setChecks] = useState<Record<string, string>>({});
  const check = async (d: Device) => {
    let text: string;
    try {
      const body: Record<string, unknown> = { write: false };
      if (d.reported_release_prn) body.release_prn = d.reported_release_prn;
      else if (d.reported_bundle_prn) body.bundle_prn = d.reported_bundle_prn;
      else if (d.reported_release_version) body.release_version = d.reported_release_version;
      const answer = await api<{
        status: string;
        bundle_prn: string | null;
        source_type: 'release' | 'bundle_override' | null;
        source_prn: string | null;
      }>('POST', `/devices/${d.prn}/update`, body);
      const source =
        answer.source_type === 'release'
          ? `release ${releaseName(answer.source_prn) ?? answer.source_prn}`
          : `bundle override ${answer.source_prn}`;
      text =
        answer.status === 'update'
          ? `update: ${bundleName(answer.bundle_prn) ?? answer.bundle_prn} (${source})`
          : answer.status;
    } catch (err) {
      text = (err as Error).message;
    }
    // Functional update: two checks answered close together must not drop each other's result.
    setChecks((current) => ({ ...current, [d.prn]: text }));
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
                {releaseName(d.reported_release_prn) ?? (d.reported_release_prn ? '' : '—')}{' '}
                {d.reported_release_prn && <code class="hint">{d.reported_release_prn}</code>}
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
