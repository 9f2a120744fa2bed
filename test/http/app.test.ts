import request from 'supertest';
import type Koa from 'koa';
import { createApp } from '../../src/http/app';
import type { AppState } from '../../src/http/context';
import { createTestDeps, type TestDeps } from '../support/deps';

describe('HTTP foundation', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;

  beforeAll(async () => {
    deps = await createTestDeps();
    app = createApp(deps);
    // A route that fails unexpectedly, mounted after the real routes (they fall through to it).
    app.use(async (ctx) => {
      if (ctx.path === '/test/boom') throw new Error('database password is hunter2 at /srv/app/secret.ts:42');
      if (ctx.path === '/test/echo') ctx.body = { received: ctx.request.body ?? null };
    });
  });
  afterAll(async () => deps.cleanup());

  describe('request id', () => {
    it('generates one when the caller sends none', async () => {
      const res = await request(app.callback()).get('/healthz');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('keeps a well-formed id from the caller and logs under it', async () => {
      const res = await request(app.callback()).get('/healthz').set('X-Request-Id', 'trace-abc.123:xyz');
      expect(res.headers['x-request-id']).toBe('trace-abc.123:xyz');
      expect(deps.logs.events('http.request').some((line) => line.reqId === 'trace-abc.123:xyz')).toBe(true);
    });

    it.each(['has spaces', 'a'.repeat(129), '<script>', 'a/b', '"quoted"'])('replaces a malformed id %p', async (id) => {
      const res = await request(app.callback()).get('/healthz').set('X-Request-Id', id);
      expect(res.headers['x-request-id']).not.toBe(id);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('bodies', () => {
    it('parses form and JSON bodies', async () => {
      const form = await request(app.callback()).post('/test/echo').type('form').send('grant_type=password&scope=a+b');
      expect(form.body).toEqual({ received: { grant_type: 'password', scope: 'a b' } });
      const json = await request(app.callback()).post('/test/echo').send({ email: 'a@example.com' });
      expect(json.body).toEqual({ received: { email: 'a@example.com' } });
    });

    it('answers 413 for a body over 16 KiB, in OAuth form on OAuth endpoints', async () => {
      const big = 'x'.repeat(16 * 1024 + 1);
      const oauth = await request(app.callback()).post('/oauth/token').type('form').send(`password=${big}`);
      expect(oauth.status).toBe(413);
      expect(oauth.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
      const other = await request(app.callback()).post('/test/echo').send({ big });
      expect(other.status).toBe(413);
      expect(other.body.error).toBe('request_too_large');
    });

    it('accepts a body just under the limit', async () => {
      const res = await request(app.callback()).post('/test/echo').type('form').send(`a=${'x'.repeat(16 * 1024 - 10)}`);
      expect(res.status).toBe(200);
    });

    it('answers malformed JSON with 400 invalid_request', async () => {
      const res = await request(app.callback()).post('/test/echo').set('Content-Type', 'application/json').send('{"a":');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });
  });

  describe('errors', () => {
    it('renders an unexpected failure as a generic 500 without a stack or the message', async () => {
      const res = await request(app.callback()).get('/test/boom').set('X-Request-Id', 'boom-1');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'server_error', error_description: 'internal server error', request_id: 'boom-1' });
      expect(res.text).not.toMatch(/hunter2|secret\.ts|at /);
      const logged = deps.logs.events('http.unhandled_error').find((line) => line.reqId === 'boom-1');
      expect(logged).toBeDefined();
    });

    it('answers an unknown path with a JSON 404', async () => {
      const res = await request(app.callback()).get('/nothing/here');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
    });

    it('answers a wrong method with 405 and Allow', async () => {
      const res = await request(app.callback()).delete('/healthz');
      expect(res.status).toBe(405);
      expect(res.headers.allow).toContain('GET');
      expect(res.body.error).toBe('method_not_allowed');
    });
  });

  it('sets security headers on every response', async () => {
    const res = await request(app.callback()).get('/nothing');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(res.headers['cross-origin-resource-policy']).toBe('same-site');
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
  });

  it('sends the API set on the verification endpoints and probes: framing, scripts, sniffing and plain HTTP still refused', async () => {
    const res = await request(app.callback()).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    // Browser-isolation headers for pages are not on these answers.
    for (const name of ['cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster', 'referrer-policy', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection']) expect(res.headers[name]).toBeUndefined();
    // A method the route does not take goes the general way: the full set.
    expect((await request(app.callback()).delete('/healthz')).headers['referrer-policy']).toBe('no-referrer');
  });

  it('sends exactly the headers helmet itself sets with these options (replayed, not recomputed per request)', async () => {
    const { default: koaHelmetFree } = await import('helmet');
    const recorded = new Map<string, string>();
    const recorder = { setHeader: (name: string, value: string) => recorded.set(name.toLowerCase(), String(value)), removeHeader: (name: string) => recorded.delete(name.toLowerCase()), getHeader: () => undefined };
    koaHelmetFree({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-site' },
      referrerPolicy: { policy: 'no-referrer' },
      frameguard: { action: 'deny' },
    })({} as never, recorder as never, () => undefined);
    expect(recorded.size).toBeGreaterThan(8);
    const res = await request(app.callback()).get('/.well-known/jwks.json');
    for (const [name, value] of recorded) expect([name, res.headers[name]]).toEqual([name, value]);
  });

  it('answers /healthz', async () => {
    const res = await request(app.callback()).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});
