import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, session } from './api.js';
import { Banner, href } from './ui.js';
import { ArtifactsView, ArtifactView, VersionView } from './views/browse.js';
import { BinaryView } from './views/binary.js';
import { DevicesView, EventsView, KeysView } from './views/fleet.js';
import { ReleasesView } from './views/releases.js';

/** `#/binaries/<prn>?x=y` → path segments and query; PRNs contain colons but no slashes. */
function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/artifacts';
  const [path, query = ''] = raw.split('?', 2) as [string, string | undefined];
  return {
    segments: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(query),
  };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const onChange = () => {
      setRoute(parseHash());
      window.scrollTo(0, 0);
    };
    addEventListener('hashchange', onChange);
    // The hash may have changed between the first render and this effect (a link followed at once after
    // signing in); that hashchange went unheard, so read it again now.
    setRoute(parseHash());
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

const navigate = (to: string) => {
  location.hash = to.replace(/^#/, '');
};

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // Any authenticated read proves the key; nothing is stored until it works.
      await api('GET', '/signing_keys?limit=1', undefined, key.trim());
      session.set(key.trim());
      onSignedIn();
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? new Error('That API key is wrong: the registry refused it.')
          : err,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form class="card" onSubmit={(event) => void submit(event)} aria-labelledby="signin-title">
        <h1 id="signin-title">Registry console</h1>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="current-password"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          required
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <Banner error={error} />
      </form>
    </main>
  );
}

const NAV = [
  ['/artifacts', 'Artifacts'],
  ['/releases', 'Releases'],
  ['/devices', 'Devices'],
  ['/keys', 'Signing keys'],
  ['/events', 'Events'],
] as const;

function Routed() {
  const { segments, query } = useRoute();
  const [first, prn] = segments;
  const props = { query, navigate };
  const current = `/${first === 'versions' || first === 'binaries' ? 'artifacts' : (first ?? 'artifacts')}`;
  let view;
  if (first === 'artifacts' && prn) view = <ArtifactView prn={prn} {...props} />;
  else if (first === 'versions' && prn) view = <VersionView prn={prn} {...props} />;
  else if (first === 'binaries' && prn) view = <BinaryView prn={prn} navigate={navigate} />;
  else if (first === 'keys') view = <KeysView />;
  else if (first === 'events') view = <EventsView {...props} />;
  else if (first === 'releases') view = <ReleasesView {...props} />;
  else if (first === 'devices') view = <DevicesView {...props} />;
  else view = <ArtifactsView {...props} />;
  return (
    <>
      <header class="top">
        <a class="brand" href={href('/artifacts')}>
          Registry console
        </a>
        <nav aria-label="Main">
          {NAV.map(([path, label]) => (
            <a href={href(path)} aria-current={current === path ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          onClick={() => {
            session.clear();
            location.hash = '';
            location.reload();
          }}
        >
          Sign out
        </button>
      </header>
      <main>{view}</main>
    </>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(() => session.get() !== null);
  // A key that stops working (rotated) sends the user back to the sign-in form.
  useEffect(() => {
    const onReject = (event: PromiseRejectionEvent) => {
      if (event.reason instanceof ApiError && event.reason.status === 401) session.clear();
    };
    addEventListener('unhandledrejection', onReject);
    return () => removeEventListener('unhandledrejection', onReject);
  }, []);
  return signedIn ? <Routed /> : <SignIn onSignedIn={() => setSignedIn(true)} />;
}

render(<App />, document.getElementById('app')!);
