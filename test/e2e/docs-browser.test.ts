import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../../src/http/app';
import { seedDemoData } from '../../src/identity/demo-data';
import { freePort } from '../support/backends';
import { createTestDeps, type TestDeps } from '../support/deps';
import { testConfig } from '../support/env';

// The interactive docs (/docs) in a real Chromium, as a developer opens them after `npm start`:
// Swagger UI from the service itself under its CSP, and the Authorize button signing in with the
// demo SPA client (authorization code + PKCE through the hosted login page) and calling the
// account API with the token it got.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the interactive docs in a real Chromium', () => {
  let deps: TestDeps;
  let server: http.Server;
  let browser: Browser;
  let page: Page;
  let issuer: string;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
    const port = await freePort();
    issuer = `http://localhost:${port}`;
    deps = await createTestDeps({ config: testConfig({ ISSUER: issuer, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' }) });
    // As `npm start` on the embedded database: the demo users and clients, docs redirect URI included.
    const development = { ...deps.config, databaseUrl: undefined, production: false };
    await seedDemoData({ ...deps, config: development });
    server = http.createServer(createApp({ ...deps, config: development }).callback());
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    expect((server.address() as AddressInfo).port).toBe(port);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    // Script errors and CSP violations (console errors), on the docs and on the login popup.
    context.on('page', (opened) => watch(opened));
    page = await context.newPage();
  }, 60_000);

  function watch(target: Page): void {
    target.on('pageerror', (error) => problems.push(`page error at ${target.url()}: ${error.message}`));
    target.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource:')) problems.push(`console error at ${target.url()}: ${message.text()}`);
    });
  }

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await deps?.cleanup();
  });

  it('renders every tag\'s operations from /openapi.json, from the service alone, without CSP violations', async () => {
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(issuer) && !request.url().startsWith('data:')) outside.push(request.url());
    });
    const response = await page.goto(`${issuer}/docs`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('.opblock-summary-path', { hasText: '/oauth/token' }).first().waitFor();
    await page.locator('.opblock-summary-path', { hasText: '/admin/users/{id}' }).first().waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThan(35);
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('signs in with the demo SPA client through Authorize (code + PKCE) and calls the account API with the token', async () => {
    await page.locator('.auth-wrapper button.authorize').click();
    const dialog = page.locator('.modal-ux');
    await dialog.waitFor();
    // The authorization code flow's section: its client_id is the demo client's, filled in.
    const codeFlow = dialog.locator('.auth-container').filter({ has: page.locator('#client_id_authorizationCode') });
    await expect(codeFlow.locator('#client_id_authorizationCode').inputValue()).resolves.toBe('demo-spa-code');
    const popupOpened = page.waitForEvent('popup');
    await codeFlow.locator('button.authorize').click();
    const popup = await popupOpened;
    await popup.locator('input[name="username"]').fill('alice');
    await popup.locator('input[name="password"]').fill('secret123');
    const tokenResponse = page.waitForResponse((res) => res.url() === `${issuer}/oauth/token` && res.request().method() === 'POST');
    await popup.getByRole('button', { name: 'Sign in' }).click();
    expect((await tokenResponse).status()).toBe(200);
    // Authorized: the flow's form gives way to its Logout button.
    await dialog.locator('button', { hasText: 'Logout' }).first().waitFor();
    await dialog.locator('button.btn-done').first().click();

    // Try it out: GET /users/me with the token Swagger UI holds now.
    const operation = page.locator('#operations-Account-getMe');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    const me = page.waitForResponse((res) => res.url() === `${issuer}/users/me`);
    await operation.getByRole('button', { name: 'Execute' }).click();
    const answer = await me;
    expect(answer.status()).toBe(200);
    expect((await answer.json()).username).toBe('alice');
    expect(problems).toEqual([]);
  }, 60_000);
});
