import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createLogger, redactUrl } from '../../src/logging/logger';
import { createTestDeps, type TestDeps } from '../support/deps';
import { LogCapture } from '../support/logs';

const PASSWORD = 'correct-horse-battery-staple-7731';
const BEARER = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLTk5MTI';
const SECRET = 'client-secret-5f0e9a8b';

describe('logging never leaks credentials', () => {
  let deps: TestDeps;

  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(async () => deps.cleanup());

  it('writes one line per request without passwords, bearer tokens or secrets', async () => {
    const app = createApp(deps);
    app.use(async (ctx) => {
      // A handler that carelessly logs what it received: configuration must still redact it.
      ctx.state.log.info({ event: 'test.received', body: ctx.request.body, headers: ctx.headers }, 'received');
      ctx.status = 204;
    });
    await request(app.callback())
      .post(`/test/login?access_token=${BEARER}&limit=2`)
      .set('Authorization', `Bearer ${BEARER}`)
      .set('Cookie', `session=${SECRET}`)
      .type('form')
      .send({ username: 'alice', password: PASSWORD, client_secret: SECRET, refresh_token: BEARER });

    const text = deps.logs.text();
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(BEARER);
    expect(text).not.toContain(SECRET);

    const requests = deps.logs.events('http.request');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'POST', status: 204, url: expect.stringContaining('limit=2') });
    const received = deps.logs.events('test.received')[0] as { body: Record<string, string>; headers: Record<string, string> };
    expect(received.body.username).toBe('alice');
    expect(received.body.password).toBe('[redacted]');
    expect(received.headers.authorization).toBe('[redacted]');
  });

  it('redacts secret fields at any depth up to four levels', () => {
    const logs = new LogCapture();
    const log = createLogger('info', logs);
    log.info({ a: { b: { c: { token: BEARER, access_token: BEARER } } }, password: PASSWORD, client: { client_secret: SECRET } }, 'nested');
    expect(logs.text()).not.toMatch(new RegExp(`${PASSWORD}|${BEARER}|${SECRET}`));
    expect(logs.lines()[0]).toMatchObject({ password: '[redacted]', client: { client_secret: '[redacted]' } });
  });

  it('redacts secret query parameters from logged URLs', () => {
    expect(redactUrl('/cb?code=1&access_token=abc&Token=x')).toBe('/cb?code=%5Bredacted%5D&access_token=%5Bredacted%5D&Token=%5Bredacted%5D');
    // Any name not known to be harmless, including ones a client invents (found by the review).
    expect(redactUrl('/oauth/token?api_key=k&pw=p&newPassword=n&password%5B%5D=x&a=1;password=y')).not.toMatch(/=(k|p|n|x|1;password=y)(&|$)/);
    expect(redactUrl('/oauth/verify?scope=items:read&audience=https://a.example')).toBe('/oauth/verify?scope=items:read&audience=https://a.example');
    expect(redactUrl('/admin/users?prefix=al&limit=5&offset=0')).toBe('/admin/users?prefix=al&limit=5&offset=0');
    expect(redactUrl('/no-query')).toBe('/no-query');
  });
});
