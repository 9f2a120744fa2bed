// The example SPA: a public client (RFC 6749 §2.1: a browser cannot keep a secret) signing in with
// the authorization code flow and PKCE S256 (RFC 7636; RFC 9700 §2.1.1), by oauth4webapi.
// index.html and callback.html both load this module; <body data-page> says which one runs.
import * as oauth from '/vendor/oauth4webapi/index.js';
import config from '/config.js';

const issuer = new URL(config.issuer);
const client = { client_id: config.clientId };
const clientAuth = oauth.None();
const redirectUri = new URL('/callback.html', location.origin).href;
const postLogoutRedirectUri = new URL('/', location.origin).href;
// oauth4webapi refuses plain-HTTP endpoints. Allow them only for an issuer on this machine (the
// development setup); anywhere else the issuer must be https://.
const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
const httpOptions = issuer.protocol === 'http:' && loopback ? { [oauth.allowInsecureRequests]: true } : {};

// Where state lives. Tokens are kept in sessionStorage: it is per tab and per origin, survives a
// reload and the redirect to callback.html, and is gone when the tab closes. The trade-off: any
// script running on this origin can read it, so an XSS hole would hand over the refresh token.
// Memory alone would be safer but lose the sign-in on every reload and could not carry the tokens
// from callback.html to index.html; localStorage would also share them with every tab and keep
// them after the browser closes. What limits the damage here: a strict Content-Security-Policy
// (server.mjs), short-lived access tokens, and refresh tokens that rotate on every use, so that a
// stolen one that is used twice revokes the whole sign-in (Portcullis's reuse detection). Where
// that is not enough, keep tokens out of the browser altogether (a backend-for-frontend holding
// them behind an HttpOnly cookie).
const PENDING = 'portcullis.pending-sign-in';
const TOKENS = 'portcullis.tokens';
const LOGOUT = 'portcullis.pending-sign-out';

const $ = (id) => document.getElementById(id);

function read(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}
function take(key) {
  const value = read(key);
  sessionStorage.removeItem(key);
  return value;
}
const write = (key, value) => sessionStorage.setItem(key, JSON.stringify(value));

/** A failed fetch says only "Failed to fetch": name the server it could not reach. */
const unreachable = (where) => (error) => {
  throw error instanceof TypeError && /fetch/i.test(error.message) ? new Error(`could not reach ${where} (${error.message})`) : error;
};

let metadata;
/** RFC 8414 discovery from the issuer; `issuer` in the answer must be exactly ours (§3.3). */
async function discover() {
  metadata ??= await oauth
    .discoveryRequest(issuer, { algorithm: 'oauth2', ...httpOptions })
    .catch(unreachable(config.issuer))
    .then((response) => oauth.processDiscoveryResponse(issuer, response));
  return metadata;
}

function saveTokens(result, previous) {
  const tokens = {
    accessToken: result.access_token,
    // RFC 6749 §6: a server may keep the refresh token; Portcullis rotates it on every use.
    refreshToken: result.refresh_token ?? previous?.refreshToken,
    scope: result.scope ?? previous?.scope ?? '',
    expiresAt: typeof result.expires_in === 'number' ? Date.now() + result.expires_in * 1000 : undefined,
  };
  write(TOKENS, tokens);
  return tokens;
}

/** A sentence for a person, from whatever went wrong. */
function describe(error) {
  if (error instanceof oauth.AuthorizationResponseError || error instanceof oauth.ResponseBodyError) {
    return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function showError(text) {
  const box = $('error');
  box.textContent = text;
  box.hidden = !text;
}
const setStatus = (text) => {
  $('status').textContent = text;
};
const time = (ms) => new Date(ms).toLocaleTimeString();

// ---------------------------------------------------------------- callback.html

async function completeSignIn() {
  const pending = take(PENDING);
  if (!pending) throw new Error('No sign-in was started in this tab. Go back to the app and sign in again.');
  const as = await discover();
  // Checks `state` (CSRF, RFC 6749 §10.12) and `iss` (RFC 9207: the answer must come from the
  // server we sent the user to, against mix-up attacks), and turns error=... into an exception.
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), pending.state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, pending.codeVerifier, httpOptions).catch(unreachable(as.token_endpoint));
  saveTokens(await oauth.processAuthorizationCodeResponse(as, client, response));
  // replace(): the code stays out of the history (it is single-use anyway).
  location.replace('/');
}

// ---------------------------------------------------------------- index.html

async function signIn() {
  const as = await discover();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  write(PENDING, { codeVerifier, state });
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    scope: config.scope,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.href);
}

async function refresh() {
  const tokens = read(TOKENS);
  if (!tokens?.refreshToken) throw new Error('This sign-in has no refresh token.');
  const as = await discover();
  try {
    const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refreshToken, httpOptions).catch(unreachable(as.token_endpoint));
    const next = saveTokens(await oauth.processRefreshTokenResponse(as, client, response), tokens);
    showSignedIn(next);
    setStatus(`Tokens refreshed at ${time(Date.now())}.`);
  } catch (error) {
    // The sign-in has ended (signed out elsewhere, expired, or revoked): start again.
    if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant') {
      sessionStorage.removeItem(TOKENS);
      showSignedOut();
    }
    throw error;
  }
}

async function signOut() {
  const as = await discover();
  sessionStorage.removeItem(TOKENS);
  if (!as.end_session_endpoint) {
    showSignedOut();
    setStatus('Signed out of this app (the server offers no end_session_endpoint).');
    return;
  }
  // OpenID Connect RP-Initiated Logout 1.0: the server ends its browser session and revokes the
  // refresh tokens started from it, then sends the browser back here with our state. §2 allows
  // GET or POST; a form POST from this page carries our Origin, so Portcullis knows the app itself
  // asks and signs out at once (a GET, which any link can make, is confirmed by the person first).
  const state = oauth.generateRandomState();
  write(LOGOUT, state);
  const form = Object.assign(document.createElement('form'), { method: 'post', action: as.end_session_endpoint, hidden: true });
  for (const [name, value] of Object.entries({ client_id: client.client_id, post_logout_redirect_uri: postLogoutRedirectUri, state })) {
    form.append(Object.assign(document.createElement('input'), { type: 'hidden', name, value }));
  }
  document.body.append(form);
  form.submit();
}

/** GET with the access token (RFC 6750 §2.1); a refusal becomes an error naming its reason. */
async function getWithToken(url) {
  const tokens = read(TOKENS);
  const response = await fetch(url, { headers: { authorization: `Bearer ${tokens?.accessToken}`, accept: 'application/json' } }).catch(unreachable(url));
  if (!response.ok) {
    const challenge = response.headers.get('www-authenticate');
    const body = await response.json().catch(() => ({}));
    throw new Error(`${url} answered ${response.status}${body.error ? ` ${body.error}` : ''}${body.error_description ? `: ${body.error_description}` : ''}${challenge && !body.error ? ` (${challenge})` : ''}`);
  }
  return response.json();
}

async function loadUser() {
  // The access token is for resource servers, not for us to read (RFC 9068 §6); the server's
  // self-service API says who we are.
  const me = await getWithToken(new URL('users/me', `${config.issuer}/`).href);
  $('username').textContent = me.username;
  $('full-name').textContent = me.fullName ?? '–';
}

async function callItemsApi() {
  const items = await getWithToken(`${config.itemsApi}/items`);
  const list = $('items');
  list.replaceChildren(
    ...(items.length
      ? items.map((item) => Object.assign(document.createElement('li'), { textContent: item.name }))
      : [Object.assign(document.createElement('li'), { textContent: 'No items.', className: 'muted' })]),
  );
  setStatus(`Loaded ${items.length} item${items.length === 1 ? '' : 's'} at ${time(Date.now())}.`);
}

function showSignedIn(tokens) {
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  $('scope').textContent = tokens.scope || '–';
  $('expires').textContent = tokens.expiresAt ? time(tokens.expiresAt) : 'not said';
}

function showSignedOut() {
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
}

/** Runs a button's action with the button disabled, showing any failure. */
function action(id, run) {
  const button = $(id);
  button.addEventListener('click', async () => {
    button.disabled = true;
    showError('');
    try {
      await run();
    } catch (error) {
      showError(describe(error));
    } finally {
      button.disabled = false;
    }
  });
}

async function home() {
  action('sign-in', signIn);
  action('call-api', callItemsApi);
  action('refresh', refresh);
  action('sign-out', signOut);

  // Back from the end_session_endpoint: ?state=... must be the one this tab sent.
  const query = new URLSearchParams(location.search);
  if (query.has('state')) {
    const expected = take(LOGOUT);
    history.replaceState(null, '', '/');
    if (expected && query.get('state') === expected) setStatus('You are signed out.');
    else showError('Ignored a sign-out answer that this tab did not ask for.');
  }

  const tokens = read(TOKENS);
  if (!tokens) return showSignedOut();
  showSignedIn(tokens);
  await loadUser();
}

const pages = { home, callback: completeSignIn };
const page = pages[document.body.dataset.page] ?? (async () => undefined);
page().catch((error) => {
  showError(describe(error));
  if (document.body.dataset.page === 'callback') setStatus('Sign-in failed.');
});
