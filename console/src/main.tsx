import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api } from './api';
import { finishCognitoLogin, forgetToken, startCognitoLogin, takeTokenFromLocation } from './auth';
import { Ctx } from './context';
import { Cameras } from './pages/Cameras';
import { Live } from './pages/Live';
import { People } from './pages/People';
import { Person } from './pages/Person';
import { Sighting } from './pages/Sighting';
import { Visitor, Visitors } from './pages/Visitors';
import { href, useRoute, type Route } from './router';
import type { ConsoleConfig } from './types';
import './styles.css';

const NAV: { label: string; to: string; pages: Route['page'][] }[] = [
  { label: 'Live', to: href.live(), pages: ['live', 'sighting'] },
  { label: 'People', to: href.people(), pages: ['people', 'person'] },
  { label: 'Visitors', to: href.visitors(), pages: ['visitors', 'visitor'] },
  { label: 'Cameras', to: href.cameras(), pages: ['cameras'] },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'live':
      return <Live />;
    case 'sighting':
      return <Sighting id={route.id} />;
    case 'people':
      return <People />;
    case 'person':
      return <Person id={route.id} />;
    case 'visitors':
      return <Visitors />;
    case 'visitor':
      return <Visitor id={route.id} />;
    case 'cameras':
      return <Cameras />;
  }
}

export function App({ config, initialToken }: { config: ConsoleConfig; initialToken?: string }) {
  const [token, setToken] = useState(initialToken);
  const route = useRoute();
  const api = useMemo(
    () =>
      new Api(
        () => token,
        () => {
          forgetToken(sessionStorage);
          setToken(undefined);
        },
      ),
    [token],
  );
  useEffect(() => {
    const title = NAV.find((n) => n.pages.includes(route.page))?.label ?? 'Live';
    document.title = `${title} · facewatch`;
  }, [route.page]);

  if (!token) return <Login config={config} onToken={setToken} />;
  return (
    <Ctx.Provider value={{ api }}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header>
        <h1>facewatch</h1>
        <nav aria-label="Pages">
          {NAV.map((n) => (
            <a key={n.to} href={n.to} aria-current={n.pages.includes(route.page) ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </Ctx.Provider>
  );
}

function Login({ config, onToken }: { config: ConsoleConfig; onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  if (config.auth === 'cognito') {
    return (
      <main class="login">
        <h1>facewatch</h1>
        <button type="button" onClick={() => startCognitoLogin(config, sessionStorage)}>
          Log in
        </button>
      </main>
    );
  }
  return (
    <main class="login">
      <h1>facewatch</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!value.trim()) return;
          sessionStorage.setItem('facewatch.token', value.trim());
          onToken(value.trim());
        }}
      >
        <label>
          API token (in .facewatch/api-token; <code>npm start</code> prints a link that logs in)
          <input type="password" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} autocomplete="off" />
        </label>
        <button type="submit">Log in</button>
      </form>
    </main>
  );
}

async function boot() {
  const config = (await fetch('/console/config.json')
    .then((r) => (r.ok ? r.json() : { auth: 'token' }))
    .catch(() => ({ auth: 'token' }))) as ConsoleConfig;
  const token = config.auth === 'cognito' ? await finishCognitoLogin(config, sessionStorage) : takeTokenFromLocation(window.location, window.history, sessionStorage);
  render(<App config={config} initialToken={token} />, document.getElementById('app')!);
}

if (typeof document !== 'undefined' && document.getElementById('app')) void boot();
