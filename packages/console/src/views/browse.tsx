import {
  listPath,
  quote,
  type Artifact,
  type ArtifactVersion,
  type Binary,
  type SigningKey,
} from '../api.js';
import {
  Banner,
  Crumbs,
  formatBytes,
  formatDate,
  href,
  NextPage,
  Page,
  SearchForm,
  StateBadge,
  useApi,
} from '../ui.js';
import { CreateBinary } from './upload.js';

export interface ListProps {
  query: URLSearchParams;
  navigate: (to: string) => void;
}

/** Search and paging live in the URL, so a listing can be shared and the back button pages back. */
function listControls(path: string, query: URLSearchParams, navigate: (to: string) => void) {
  const search = query.get('search') ?? '';
  return {
    search,
    page: query.get('page') ?? undefined,
    onSearch: (value: string) => navigate(href(path, { search: value || undefined })),
    go: (page: string) => navigate(href(path, { search: search || undefined, page })),
  };
}

export function ArtifactsView({ query, navigate }: ListProps) {
  const c = listControls('/artifacts', query, navigate);
  const search = c.search ? `name~${quote(c.search)}` : undefined;
  const list = useApi<{ artifacts: Artifact[]; next_page: string | null }>(
    listPath('/artifacts', { limit: '20', search, page: c.page }),
  );
  return (
    <Page title="Artifacts">
      <SearchForm label="Name contains" value={c.search} onSearch={c.onSearch} />
      <Banner error={list.error} />
      <table>
        <caption class="sr-only">Artifacts</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Description</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.artifacts.map((a) => (
            <tr key={a.prn}>
              <td>
                <a href={href(`/artifacts/${a.prn}`)}>{a.name}</a>
              </td>
              <td>{a.description ?? ''}</td>
              <td>{formatDate(a.inserted_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && list.data.artifacts.length === 0 && <p>No artifacts.</p>}
      <NextPage nextPage={list.data?.next_page} go={c.go} first={!c.page} />
    </Page>
  );
}

export function ArtifactView({ prn, query, navigate }: ListProps & { prn: string }) {
  const c = listControls(`/artifacts/${prn}`, query, navigate);
  const artifact = useApi<{ artifact: Artifact }>(`/artifacts/${prn}`);
  const search = [`artifact_prn:${quote(prn)}`, c.search ? `version~${quote(c.search)}` : ''].filter(Boolean);
  const list = useApi<{ artifact_versions: ArtifactVersion[]; next_page: string | null }>(
    listPath('/artifact_versions', {
      limit: '20',
      search: search.join(' and '),
      page: c.page,
      order: 'desc',
    }),
  );
  const name = artifact.data?.artifact.name ?? '…';
  return (
    <Page title={`Artifact ${name}`}>
      <Crumbs items={[{ label: 'Artifacts', to: href('/artifacts') }, { label: name }]} />
      <SearchForm label="Version contains" value={c.search} onSearch={c.onSearch} />
      <Banner error={artifact.error ?? list.error} />
      <table>
        <caption class="sr-only">Versions</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Description</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.artifact_versions.map((v) => (
            <tr key={v.prn}>
              <td>
                <a href={href(`/versions/${v.prn}`)}>{v.version}</a>
              </td>
              <td>{v.description ?? ''}</td>
              <td>{formatDate(v.inserted_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && list.data.artifact_versions.length === 0 && <p>No versions.</p>}
      <NextPage nextPage={list.data?.next_page} go={c.go} first={!c.page} />
    </Page>
  );
}

export const shortHash = (hash: string | null) => (hash ? `${hash.slice(0, 12)}…` : '—');

export function keyName(keys: SigningKey[] | undefined, prn: string) {
  return keys?.find((k) => k.prn === prn)?.name ?? prn;
}

export function VersionView({ prn, query, navigate }: ListProps & { prn: string }) {
  const c = listControls(`/versions/${prn}`, query, navigate);
  const version = useApi<{ artifact_version: ArtifactVersion }>(`/artifact_versions/${prn}`);
  const artifactPrn = version.data?.artifact_version.artifact_prn;
  const artifact = useApi<{ artifact: Artifact }>(artifactPrn && `/artifacts/${artifactPrn}`);
  const keys = useApi<{ signing_keys: SigningKey[] }>('/signing_keys?limit=100');
  const search = [`artifact_version_prn:${quote(prn)}`, c.search ? `target~${quote(c.search)}` : ''];
  const list = useApi<{ binaries: Binary[]; next_page: string | null }>(
    listPath('/binaries', { limit: '20', search: search.filter(Boolean).join(' and '), page: c.page }),
    (data) => data.binaries.some((b) => ['uploadable', 'hashable', 'hashing'].includes(b.state)),
    2000,
  );
  const v = version.data?.artifact_version.version ?? '…';
  const name = artifact.data?.artifact.name ?? '…';
  return (
    <Page title={`${name} ${v}`}>
      <Crumbs
        items={[
          { label: 'Artifacts', to: href('/artifacts') },
          { label: name, to: artifactPrn && href(`/artifacts/${artifactPrn}`) },
          { label: v },
        ]}
      />
      <SearchForm label="Target contains" value={c.search} onSearch={c.onSearch} />
      <Banner error={version.error ?? list.error} />
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Binaries</caption>
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">State</th>
              <th scope="col">Size</th>
              <th scope="col">Hash</th>
              <th scope="col">Signed by</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.binaries.map((b) => (
              <tr key={b.prn}>
                <td>
                  <a href={href(`/binaries/${b.prn}`)}>{b.target}</a>
                </td>
                <td>
                  <StateBadge state={b.state} />
                </td>
                <td>{formatBytes(b.size)}</td>
                <td>
                  <code title={b.hash ?? ''}>{shortHash(b.hash)}</code>
                </td>
                <td>
                  {(b.signatures ?? [])
                    .map((s) => keyName(keys.data?.signing_keys, s.signing_key_prn))
                    .join(', ')}
                </td>
                <td>{formatDate(b.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && list.data.binaries.length === 0 && <p>No binaries.</p>}
      <NextPage nextPage={list.data?.next_page} go={c.go} first={!c.page} />
      <CreateBinary versionPrn={prn} onChange={list.reload} />
    </Page>
  );
}
