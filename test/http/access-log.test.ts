import request from 'supertest';
import { loadConfig } from '../../src/config/config';
import { ACCESS_LOG_SAMPLE_EVERY } from '../../src/http/middleware/request-log';
import { basic, oauthFixture, RS_SECRET } from '../support/oauth-fixture';

// Issue 17, "Request logging policy": the verification hot paths' successful requests follow
// ACCESS_LOG; a failed or refused request, and every request elsewhere, is always logged.

describe('ACCESS_LOG', () => {
  it('defaults to sampled in production and all in development', () => {
    const base = { ISSUER: 'https://auth.example.com', SIGNING_KEYS_FILE: '/nonexistent', DATABASE_URL: 'postgres://db/x', REDIS_URL: 'redis://r' };
    expect(loadConfig({ NODE_ENV: 'development' }).accessLog).toBe('all');
    expect(() => loadConfig({ NODE_ENV: 'production', ...base, ACCESS_LOG: 'some' })).toThrow(/ACCESS_LOG/);
    expect(loadConfig({ NODE_ENV: 'development', ACCESS_LOG: 'errors' }).accessLog).toBe('errors');
  });

  for (const [policy, expected] of [['sampled', 2], ['errors', 0], ['all', 2 * ACCESS_LOG_SAMPLE_EVERY]] as const) {
    it(`${policy}: ${expected} lines for ${2 * ACCESS_LOG_SAMPLE_EVERY} answered introspections; a refused one and other routes always`, async () => {
      const { deps, app } = await oauthFixture({ ACCESS_LOG: policy });
      try {
        const introspect = (auth: string) => request(app.callback()).post('/oauth/introspect').set('Authorization', auth).type('form').send({ token: 'not-a-token' });
        for (let i = 0; i < 2 * ACCESS_LOG_SAMPLE_EVERY; i += 1) expect((await introspect(basic('rs', RS_SECRET))).status).toBe(200);
        expect(deps.logs.events('http.request').filter((line) => line.url === '/oauth/introspect')).toHaveLength(expected);

        const refused = await introspect(basic('rs', 'not-the-secret-of-rs-at-all'));
        expect(refused.status).toBe(401);
        expect(deps.logs.events('http.request').filter((line) => line.status === 401)).toEqual([expect.objectContaining({ url: '/oauth/introspect' })]);
        // The security fact is an event, whatever the access log says.
        expect(deps.logs.events('client_auth.failed')).toHaveLength(1);

        const forward = await request(app.callback()).get('/oauth/verify');
        expect(forward.status).toBe(401);
        expect(deps.logs.events('http.request').filter((line) => line.url === '/oauth/verify')).toHaveLength(1);
        expect((await request(app.callback()).get('/.well-known/oauth-authorization-server')).status).toBe(200);
        expect(deps.logs.events('http.request').filter((line) => line.url === '/.well-known/oauth-authorization-server')).toHaveLength(1);
      } finally {
        await deps.cleanup();
      }
    });
  }
});
