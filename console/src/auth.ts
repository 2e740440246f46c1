import type { ConsoleConfig } from './types';

/**
 * How the page proves who it is to the API.
 * - Locally: the API token. `npm start` prints /console/#token=…; the page keeps it for the session (sessionStorage)
 *   and removes it from the address bar, so it is neither in the history nor in a copied link.
 * - On AWS: Cognito's hosted login (authorization code with PKCE, a public client: no secret in the page); the
 *   access token goes to the /api routes, whose JWT authorizer checks it.
 */
const TOKEN_KEY = 'facewatch.token';
const VERIFIER_KEY = 'facewatch.pkce';

export interface Session {
  token?: string;
  config: ConsoleConfig;
}

/** Takes `#token=…` out of the address, keeping any route after it (`#token=…&/sightings/x` is not needed: routes come later). */
export function takeTokenFromLocation(location: Pick<Location, 'hash' | 'pathname' | 'search'>, history: Pick<History, 'replaceState'>, storage: Storage): string | undefined {
  const match = /^#token=([^&]+)(?:&(.*))?$/.exec(location.hash);
  if (match) {
    const token = decodeURIComponent(match[1]);
    storage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', `${location.pathname}${location.search}${match[2] ? `#${match[2]}` : '#/'}`);
    return token;
  }
  return storage.getItem(TOKEN_KEY) ?? undefined;
}

export function forgetToken(storage: Storage): void {
  storage.removeItem(TOKEN_KEY);
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Sends the browser to Cognito's login page, with a fresh PKCE verifier kept for the way back. */
export async function startCognitoLogin(config: Extract<ConsoleConfig, { auth: 'cognito' }>, storage: Storage): Promise<void> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  storage.setItem(VERIFIER_KEY, verifier);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email',
    code_challenge_method: 'S256',
    code_challenge: challenge,
  });
  window.location.assign(`${config.domain}/oauth2/authorize?${params}`);
}

/** Back from Cognito with ?code=…: trades it for tokens, then cleans the address. */
export async function finishCognitoLogin(config: Extract<ConsoleConfig, { auth: 'cognito' }>, storage: Storage): Promise<string | undefined> {
  const code = new URLSearchParams(window.location.search).get('code');
  const verifier = storage.getItem(VERIFIER_KEY);
  if (!code || !verifier) return storage.getItem(TOKEN_KEY) ?? undefined;
  const response = await fetch(`${config.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, code, redirect_uri: redirectUri(), code_verifier: verifier }),
  });
  storage.removeItem(VERIFIER_KEY);
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.hash || '#/'}`);
  if (!response.ok) return undefined;
  const tokens = (await response.json()) as { access_token?: string };
  if (tokens.access_token) storage.setItem(TOKEN_KEY, tokens.access_token);
  return tokens.access_token;
}

const redirectUri = () => `${window.location.origin}/console/`;
