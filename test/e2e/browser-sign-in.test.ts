import { existsSync, mkdirSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Cookie, type Page } from 'playwright-core';
import { freePort } from '../support/backends';
import { tempDir } from '../support/env';
import { RESOURCE_SERVICE, runCli, startServiceProcess, type ServiceProcess } from '../support/process';

// A person signing in to the example SPA (examples/spa) in a real Chromium: the authorization
// code flow with PKCE through Portcullis's login page, the items API called with the access token,
// a refresh, and a sign-out that ends the browser session. Portcullis runs as `portcullis serve`
// on its embedded defaults (PGlite, in-process token store), like `npm start`; the items API and
// the SPA's static server run beside it as processes, all on free ports of localhost (Chromium
// treats http://localhost as a secure context, so the __Host- session cookie works there).

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SPA_SERVER = path.resolve(__dirname, '../../examples/spa/server.mjs');
const SCREENSHOT = path.resolve(__dirname, '../../test-results/login-page.png');
const USER = { username: 'ada', password: 'correct horse battery staple' };
const CLIENT_ID = 'spa-e2e';
const SESSION_COOKIE = '__Host-portcullis_session';

interface Estate {
  auth: ServiceProcess;
  items: ServiceProcess;
  spa: ServiceProcess;
  issuer: string;
  spaOrigin: string;
  redirectUri: string;
}

async function startEstate(): Promise<Estate> {
  const [authPort, spaPort] = await Promise.all([freePort(), freePort()]);
  const issuer = `http://localhost:${authPort}`;
  const spaOrigin = `http://localhost:${spaPort}`;
  const redirectUri = `${spaOrigin}/callback.html`;
  const dataDir = tempDir();
  // The embedded database is one process's: the user and the client are made before the service
  // starts. A user of our own also keeps the demo data out.
  const cli = async (args: string[], input?: string) => {
    const result = await runCli(args, { DATA_DIR: dataDir }, input);
    if (result.code !== 0) throw new Error(`portcullis ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  };
  await cli(['user', 'create', '--username', USER.username, '--password-stdin', '--scope', 'items:read'], USER.password);
  await cli([
    'client', 'create', '--id', CLIENT_ID, '--name', 'Example SPA', '--type', 'public', '--grants', 'authorization_code,refresh_token', '--scopes', 'items:read', '--default-scopes', 'items:read',
    '--redirect-uris', redirectUri, '--post-logout-redirect-uris', `${spaOrigin}/`, '--origins', spaOrigin,
  ]);
  const [auth, items] = await Promise.all([
    startServiceProcess({ DATA_DIR: dataDir, PORT: String(authPort), ISSUER: issuer }),
    // The items API verifies with the JWKS; the demo's tokens carry aud = ISSUER (DEFAULT_AUDIENCE).
    startServiceProcess({ PORT: '0', PORTCULLIS_ISSUER: issuer, PORTCULLIS_URL: `http://127.0.0.1:${authPort}`, AUDIENCE: issuer, ALLOWED_ORIGINS: spaOrigin }, 30_000, [RESOURCE_SERVICE]),
  ]);
  const spa = await startServiceProcess({ PORT: String(spaPort), PORTCULLIS_ISSUER: issuer, CLIENT_ID, ITEMS_API: `http://localhost:${items.port}` }, 10_000, [SPA_SERVER]);
  return { auth, items, spa, issuer, spaOrigin, redirectUri };
}

describe('browser sign-in to the example SPA: authorization code + PKCE, refresh, sign-out (real Chromium)', () => {
  let estate: Estate;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH`);
    }
    [estate, browser] = await Promise.all([
      startEstate(),
      chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] }),
    ]);
    context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error at ${page.url()}: ${error.message}`));
    // Script errors and CSP violations (reported as console errors); not the 4xx answers the
    // login form gets on purpose, which Chromium also logs ("Failed to load resource").
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource:')) problems.push(`console error at ${page.url()}: ${message.text()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    const running = estate ? [estate.auth, estate.items, estate.spa] : [];
    for (const service of running) service.child.kill('SIGTERM');
    await Promise.all(running.map((service) => service.exited()));
  });

  const tokens = async (): Promise<{ accessToken: string; refreshToken: string } | null> =>
    JSON.parse((await page.evaluate<string | null>("sessionStorage.getItem('portcullis.tokens')")) ?? 'null') as { accessToken: string; refreshToken: string } | null;
  const onLoginPage = async (target: Page) => {
    await target.locator('input[name="password"]').waitFor();
    expect(new URL(target.url()).origin).toBe(estate.issuer);
    expect(await target.locator('input[name="username"]').isVisible()).toBe(true);
  };
  /** Fills and submits the login form, and waits for the page the POST leads to (a new document,
   *  so that its alert, not the previous page's, is what the test reads next). */
  const submitLogin = async (username: string, password: string) => {
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    const navigated = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await navigated;
    await page.waitForLoadState('domcontentloaded');
  };
  /** Where the authorization endpoint sends a browser of this context, without the SPA acting on it. */
  const authorizeInProbe = async (): Promise<Page> => {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${estate.issuer}/oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code', client_id: CLIENT_ID, redirect_uri: estate.redirectUri, scope: 'items:read', state: 'probe',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    }).toString();
    const probe = await context.newPage();
    // The probe's callback page is not the SPA's: it must not redeem codes or touch storage.
    await probe.route(`${estate.redirectUri}?**`, (route) => route.fulfill({ contentType: 'text/plain', body: 'probe' }));
    await probe.goto(url.href);
    return probe;
  };
  const refreshAtTokenEndpoint = (refreshToken: string) =>
    fetch(`${estate.issuer.replace('localhost', '127.0.0.1')}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: refreshToken }),
    });

  it('sends a person who clicks Sign in to the login page, which refuses a wrong password with one generic message', async () => {
    await page.goto(`${estate.spaOrigin}/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await onLoginPage(page);
    expect(new URL(page.url()).pathname).toBe('/oauth/authorize');
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await submitLogin('nobody-by-this-name', 'wrong password');
    await page.getByRole('alert').waitFor();
    const unknownUser = (await page.getByRole('alert').textContent())?.trim();
    await onLoginPage(page);

    await submitLogin(USER.username, 'wrong password');
    await page.getByRole('alert').waitFor();
    const wrongPassword = (await page.getByRole('alert').textContent())?.trim();
    await onLoginPage(page);
    // The same words whether or not the user exists, naming both fields: the page must not tell
    // usernames apart (and this is the answer to the credentials, not a refused form).
    expect(wrongPassword).toMatch(/username or password/i);
    expect(wrongPassword).toBe(unknownUser);
  });

  it('returns to the SPA with a code, state and iss (RFC 9207), which it redeems with its PKCE verifier', async () => {
    const callback = page.waitForRequest((request) => request.url().startsWith(`${estate.redirectUri}?`));
    await submitLogin(USER.username, USER.password);
    const params = new URL((await callback).url()).searchParams;
    expect(params.get('iss')).toBe(estate.issuer);
    expect(params.get('code')).toBeTruthy();
    expect(params.get('state')).toBeTruthy();

    await page.getByRole('heading', { name: `Signed in as ${USER.username}` }).waitFor();
    // The code left the address bar and the history (location.replace).
    expect(page.url()).toBe(`${estate.spaOrigin}/`);
    const held = await tokens();
    expect(held?.accessToken).toBeTruthy();
    expect(held?.refreshToken).toBeTruthy();
    expect(await page.locator('#scope').textContent()).toBe('items:read');
  });

  it('calls the items API with the access token, across origins (CORS)', async () => {
    await page.getByRole('button', { name: 'Call the items API' }).click();
    await page.getByRole('listitem').filter({ hasText: 'first item' }).waitFor();
    expect(await page.getByRole('alert').isVisible()).toBe(false);
  });

  it('refreshes: a new access token and a new refresh token, and the API takes the new one', async () => {
    const before = await tokens();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('status').filter({ hasText: 'Tokens refreshed' }).waitFor();
    const after = await tokens();
    expect(after?.accessToken).toBeTruthy();
    expect(after?.accessToken).not.toBe(before?.accessToken);
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect(await page.locator('#expires').textContent()).toMatch(/\d/);

    await page.getByRole('button', { name: 'Call the items API' }).click();
    await page.getByRole('status').filter({ hasText: 'Loaded 1 item' }).waitFor();
  });

  it('signs out: the browser session ends, the authorization endpoint asks for a password again, and the refresh token is refused', async () => {
    // While the session lives, the authorization endpoint answers at once with a code.
    const live = await authorizeInProbe();
    const answer = new URL(live.url());
    expect(`${answer.origin}${answer.pathname}`).toBe(estate.redirectUri);
    expect(answer.searchParams.get('code')).toBeTruthy();
    await live.close();

    const sessionCookie = (await context.cookies(estate.issuer)).find((cookie) => cookie.name === SESSION_COOKIE);
    expect(sessionCookie).toBeDefined();
    const lastRefreshToken = (await tokens())!.refreshToken;

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('status').filter({ hasText: 'You are signed out.' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await tokens()).toBeNull();

    // The session is over on the server, not only forgotten by the browser: even with the old
    // cookie put back, the authorization endpoint shows the login form rather than a code.
    const afterSignOut = await authorizeInProbe();
    await onLoginPage(afterSignOut);
    await afterSignOut.close();
    await context.addCookies([sessionCookie as Cookie]);
    const withOldCookie = await authorizeInProbe();
    await onLoginPage(withOldCookie);
    await withOldCookie.close();

    const refused = await refreshAtTokenEndpoint(lastRefreshToken);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('showed no script error and no Content-Security-Policy violation on any page', () => {
    expect(problems).toEqual([]);
  });
});
