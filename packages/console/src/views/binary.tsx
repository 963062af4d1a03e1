import { useState } from 'preact/hooks';
import { api, type Binary, type BinaryPart, type SigningKey } from '../api.js';
import { loadPrivateKey } from '../sign.js';
import {
  Banner,
  Crumbs,
  formatBytes,
  formatDate,
  href,
  Page,
  Progress,
  StateBadge,
  Unavailable,
  useApi,
} from '../ui.js';
import { keyName } from './browse.js';
import type { Bundle, Release } from './release-types.js';

const inFlight = (state: string | undefined) => ['uploadable', 'hashable', 'hashing'].includes(state ?? '');

export function BinaryView({ prn, navigate }: { prn: string; navigate: (to: string) => void }) {
  const record = useApi<{ binary: Binary }>(`/binaries/${prn}`, (d) => inFlight(d.binary.state));
  const binary = record.data?.binary;
  const parts = useApi<{ binary_parts: BinaryPart[] }>(
    binary && binary.state !== 'destroyed' ? `/binaries/${prn}/parts` : undefined,
    () => inFlight(binary?.state),
  );
  const version = useApi<{ artifact_version: { version: string } }>(
    binary && `/artifact_versions/${binary.artifact_version_prn}`,
  );
  const keys = useApi<{ signing_keys: SigningKey[] }>('/signing_keys?limit=100');
  const bundles = useApi<{ bundles: Bundle[] }>('/bundles?limit=100');
  const releases = useApi<{ releases: Release[] }>(bundles.data ? '/releases?limit=100' : undefined);
  const [error, setError] = useState<unknown>();

  const including = bundles.data?.bundles.filter((b) => b.binaries?.some((x) => x.prn === prn)) ?? [];
  const affected = releases.data?.releases.filter((r) => including.some((b) => b.prn === r.bundle_prn)) ?? [];
  const held = parts.data?.binary_parts ?? [];
  const validBytes = held.filter((p) => p.state === 'valid').reduce((n, p) => n + p.size, 0);

  const download = async () => {
    setError(undefined);
    try {
      const { download_url } = await api<{ download_url: string }>('GET', `/binaries/${prn}/download_url`);
      const a = document.createElement('a');
      a.href = download_url;
      a.download = '';
      a.click();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <Page title={binary ? `Binary ${binary.target}` : 'Binary'}>
      <Crumbs
        items={[
          { label: 'Artifacts', to: href('/artifacts') },
          {
            label: version.data?.artifact_version.version ?? 'Version',
            to: binary && href(`/versions/${binary.artifact_version_prn}`),
          },
          { label: binary?.target ?? '…' },
        ]}
      />
      <Banner error={record.error ?? error} />
      {binary && (
        <>
          <dl class="record">
            <dt>State</dt>
            <dd>
              <StateBadge state={binary.state} />
            </dd>
            <dt>Target</dt>
            <dd>{binary.target}</dd>
            <dt>Size</dt>
            <dd>{formatBytes(binary.size)}</dd>
            <dt>Hash</dt>
            <dd>
              <code class="hash">{binary.hash ?? '—'}</code>
            </dd>
            <dt>PRN</dt>
            <dd>
              <code>{binary.prn}</code>
            </dd>
            <dt>Created</dt>
            <dd>{formatDate(binary.inserted_at)}</dd>
            <dt>Updated</dt>
            <dd>{formatDate(binary.updated_at)}</dd>
            {binary.custom_metadata && (
              <>
                <dt>Metadata</dt>
                <dd>
                  <code>{JSON.stringify(binary.custom_metadata)}</code>
                </dd>
              </>
            )}
          </dl>
          <div class="actions">
            <button
              type="button"
              onClick={() => void download()}
              disabled={!['signable', 'signed'].includes(binary.state)}
            >
              Download
            </button>
          </div>

          <h2>Parts</h2>
          {binary.state === 'uploadable' && (
            <Progress label="Parts received" value={validBytes} max={binary.size ?? 0} />
          )}
          <table>
            <caption class="sr-only">Parts</caption>
            <thead>
              <tr>
                <th scope="col">Index</th>
                <th scope="col">Size</th>
                <th scope="col">State</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {held.map((p) => (
                <tr key={p.index}>
                  <td>{p.index}</td>
                  <td>{formatBytes(p.size)}</td>
                  <td>
                    <StateBadge state={p.state} />
                  </td>
                  <td>
                    <code>{p.hash.slice(0, 16)}…</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>

          <h2>Signatures</h2>
          {(binary.signatures ?? []).length === 0 ? (
            <p>Not signed.</p>
          ) : (
            <ul class="signatures">
              {binary.signatures!.map((s) => (
                <li>
                  <strong>{keyName(keys.data?.signing_keys, s.signing_key_prn)}</strong> key id{' '}
                  <code>{s.keyid ?? '—'}</code>
                  <br />
                  <code class="hash">{s.signature}</code>
                </li>
              ))}
            </ul>
          )}
          {(binary.state === 'signable' || binary.state === 'signed') && binary.hash && (
            <SignForm binary={binary} keys={keys.data?.signing_keys ?? []} onSigned={record.reload} />
          )}

          <h2>Bundles and releases</h2>
          {bundles.missing ? (
            <Unavailable what="Bundles and releases" />
          ) : including.length === 0 ? (
            <p>In no bundle.</p>
          ) : (
            <ul>
              {including.map((b) => (
                <li>
                  Bundle {b.name ?? b.prn}:{' '}
                  {affected
                    .filter((r) => r.bundle_prn === b.prn)
                    .map((r) => r.name)
                    .join(', ') || 'no release'}
                </li>
              ))}
            </ul>
          )}

          {binary.state !== 'destroyed' && (
            <DestroyForm
              binary={binary}
              affected={affected}
              onDestroyed={() => navigate(href(`/versions/${binary.artifact_version_prn}`))}
            />
          )}
        </>
      )}
    </Page>
  );
}

function SignForm({ binary, keys, onSigned }: { binary: Binary; keys: SigningKey[]; onSigned: () => void }) {
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState('');
  const sign = async (file: File | undefined) => {
    setError(undefined);
    setDone('');
    if (!file) return;
    try {
      const key = await loadPrivateKey(await file.text());
      const registered = keys.find((k) => k.value === key.publicValue);
      if (!registered) throw new Error('the public half of this key is not a signing key of this registry');
      const signature = await key.sign(binary.hash!);
      await api('POST', '/binary_signatures', {
        binary_prn: binary.prn,
        signing_key_prn: registered.prn,
        signature,
      });
      setDone(`Signed with ${registered.name}.`);
      onSigned();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="card">
      <h3>Sign in this browser</h3>
      <p class="hint">
        The private key file stays in this page: it is used by WebCrypto here and never sent.
      </p>
      <label for="sign-key">Private key file (Ed25519, PEM)</label>
      <input
        id="sign-key"
        type="file"
        accept=".pem,.key,text/plain"
        onChange={(e) => void sign(e.currentTarget.files?.[0])}
      />
      <Banner error={error} />
      {done && <p role="status">{done}</p>}
    </div>
  );
}

function DestroyForm({
  binary,
  affected,
  onDestroyed,
}: {
  binary: Binary;
  affected: Release[];
  onDestroyed: () => void;
}) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>();
  const destroy = async (event: Event) => {
    event.preventDefault();
    try {
      await api('DELETE', `/binaries/${binary.prn}`);
      onDestroyed();
    } catch (err) {
      setError(err);
    }
  };
  if (!open) {
    return (
      <div class="actions">
        <button type="button" class="danger" onClick={() => setOpen(true)}>
          Destroy…
        </button>
      </div>
    );
  }
  return (
    <form class="card danger-zone" onSubmit={(event) => void destroy(event)} aria-labelledby="destroy-title">
      <h3 id="destroy-title">Destroy binary {binary.target}</h3>
      <p>
        {affected.length === 0
          ? 'No release includes this binary.'
          : `Releases that would lose this binary: ${affected.map((r) => r.name).join(', ')}.`}{' '}
        Its content is deleted and cannot be recovered.
      </p>
      <label for="confirm-target">Type the target ({binary.target}) to confirm</label>
      <input
        id="confirm-target"
        value={typed}
        onInput={(e) => setTyped(e.currentTarget.value)}
        autoComplete="off"
      />
      <div class="actions">
        <button type="submit" class="danger" disabled={typed !== binary.target}>
          Destroy
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      <Banner error={error} />
    </form>
  );
}
