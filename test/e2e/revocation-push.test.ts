import { createRequestVerifier, type RequestVerifier, type JwksModeOptions } from '@portcullis/verifier/core';
import { createClient } from '../../src/identity/clients';
import { Passwords } from '../../src/identity/passwords';
import { createUser } from '../../src/identity/users';
import { generateJwk } from '../../src/tokens/generate';
import { createTestDatabase, missingBackend, postgresUrl, redisUrl, tempDir, testConfig, uniqueName } from '../support/env';
import { runCli, startServiceProcess, until, type ServiceProcess } from '../support/process';

// Issue 17, revocation pushed to local verifiers: two Portcullis instances sharing Redis and
// PostgreSQL, and two resource services verifying in jwks mode with `revocations: 'push'`, each
// subscribed to a different instance. A revocation on instance A must reach both within 100 ms
// (p99), through Redis for the one subscribed to B.

const ISSUER = 'https://auth.push.test';
const AUDIENCE = 'https://items.push.test';
const RS_SECRET = 'resource-server-secret-for-the-push-test-0000';
const SAMPLES = 50;

const form = (url: string, body: Record<string, string>) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

if (!redisUrl() || !postgresUrl()) {
  missingBackend('real Redis and PostgreSQL');
} else {
  describe('revocations pushed to jwks-mode verifiers across two instances', () => {
    let env: Record<string, string>;
    let a: ServiceProcess;
    let b: ServiceProcess;
    let drop: () => Promise<void>;
    const verifiers: RequestVerifier[] = [];

    const verifier = (instance: ServiceProcess, extra: Partial<JwksModeOptions> = {}) => {
      const created = createRequestVerifier({
        mode: 'jwks',
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUri: `${instance.url}/.well-known/jwks.json`,
        revocations: 'push',
        revocationFeedUrl: `${instance.url}/oauth/revocations`,
        clientId: 'items-api',
        clientSecret: RS_SECRET,
        reconnectBackoffMs: 50,
        maxReconnectBackoffMs: 300,
        ...extra,
      });
      verifiers.push(created);
      return created;
    };
    const status = async (rs: RequestVerifier, token: string) => {
      const result = await rs.verify({ headers: { authorization: `Bearer ${token}` } });
      return result.ok ? 200 : result.status;
    };
    const login = async (instance: ServiceProcess, username = 'alice') => {
      const res = await form(`${instance.url}/oauth/token`, { grant_type: 'password', client_id: 'spa', username, password: `${username}-password` });
      expect(res.status).toBe(200);
      return (await res.json()) as { access_token: string; refresh_token: string };
    };
    const revoke = (instance: ServiceProcess, token: string) => form(`${instance.url}/oauth/revoke`, { client_id: 'spa', token });
    const accepted = (rs: RequestVerifier, token: string) => until(async () => (await status(rs, token)) === 200, 10_000, { what: 'the verifier to accept a valid token' });
    /** Ms from now until every verifier refuses the token (polled back to back). */
    const refusalLatency = async (services: readonly RequestVerifier[], token: string, since: number): Promise<number[]> =>
      Promise.all(
        services.map(async (rs) => {
          for (;;) {
            if ((await status(rs, token)) === 401) return performance.now() - since;
            if (performance.now() - since > 5000) throw new Error('not refused within 5 s');
            await new Promise((resolve) => setImmediate(resolve));
          }
        }),
      );

    beforeAll(async () => {
      const database = await createTestDatabase('postgres');
      const config = testConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
      const now = new Date();
      for (const username of ['alice', 'bob']) await createUser(database.db, { username, passwordHash: await new Passwords(config.argon2).hash(`${username}-password`), scopes: ['items:read'] }, now);
      await createClient(database.db, { id: 'spa', type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:read'], defaultScopes: ['items:read'] }, now);
      await createClient(database.db, { id: 'items-api', type: 'confidential', secret: RS_SECRET, grantTypes: ['client_credentials'], scopes: [], canIntrospect: true }, now);
      await database.db.destroy();
      drop = database.drop;
      env = {
        DATABASE_URL: database.url!,
        REDIS_URL: redisUrl()!,
        REDIS_KEY_PREFIX: `${uniqueName('push')}:`,
        MIGRATE_ON_START: 'false',
        ISSUER,
        DEFAULT_AUDIENCE: AUDIENCE,
        // A used refresh token is reuse at once (no idempotent-retry window).
        REFRESH_REUSE_GRACE: '0s',
        SIGNING_KEYS: JSON.stringify({ keys: [generateJwk('ES256', 'push-key', 'active')] }),
      };
      [a, b] = await Promise.all([startServiceProcess({ ...env, DATA_DIR: tempDir() }), startServiceProcess({ ...env, DATA_DIR: tempDir() })]);
    }, 60_000);

    afterAll(async () => {
      verifiers.forEach((rs) => rs.close());
      for (const instance of [a, b]) instance?.child.kill('SIGTERM');
      await Promise.all([a, b].map((instance) => instance?.exited()));
      await drop?.();
    });

    it(`POST /oauth/revoke on A is refused by both resource services: p99 < 100 ms over ${SAMPLES} revocations`, async () => {
      const services = [verifier(a), verifier(b)];
      const latencies: number[] = [];
      const { refresh_token: refresh } = await login(a);
      let current = refresh;
      for (let i = 0; i < SAMPLES; i += 1) {
        // A fresh access token per sample (a rotation), accepted by both before it is revoked.
        const res = await form(`${a.url}/oauth/token`, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: current });
        const rotated = (await res.json()) as { access_token: string; refresh_token: string };
        current = rotated.refresh_token;
        for (const rs of services) await accepted(rs, rotated.access_token);
        const answer = await revoke(a, rotated.access_token);
        const since = performance.now();
        expect(answer.status).toBe(200);
        latencies.push(...(await refusalLatency(services, rotated.access_token, since)));
      }
      const sorted = [...latencies].sort((x, y) => x - y);
      const p50 = percentile(sorted, 50);
      const p99 = percentile(sorted, 99);
      // Reported for README and the benchmark's note.
      console.log(`revocation push latency, revoke response to refusal (${latencies.length} samples, 2 resource services): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
      expect(p99).toBeLessThan(100);
    }, 120_000);

    it('a revoked refresh token (its family, sid) and a detected reuse reach both', async () => {
      const services = [verifier(a), verifier(b)];
      const first = await login(a);
      for (const rs of services) await accepted(rs, first.access_token);
      await revoke(a, first.refresh_token);
      await refusalLatency(services, first.access_token, performance.now());

      const second = await login(b);
      const rotated = (await (await form(`${b.url}/oauth/token`, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: second.refresh_token })).json()) as { access_token: string };
      for (const rs of services) await accepted(rs, rotated.access_token);
      // The used refresh token again, on the other instance: theft (RFC 6819 §5.2.2.3).
      const reuse = await form(`${a.url}/oauth/token`, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: second.refresh_token });
      expect(reuse.status).toBe(400);
      await refusalLatency(services, rotated.access_token, performance.now());
    }, 60_000);

    it('a user disabled from the CLI (another process): the user epoch reaches both', async () => {
      const services = [verifier(a), verifier(b)];
      const { access_token: token } = await login(a, 'bob');
      for (const rs of services) await accepted(rs, token);
      const disabled = await runCli(['user', 'disable', 'bob'], env);
      expect(disabled.code).toBe(0);
      await refusalLatency(services, token, performance.now());
    }, 60_000);

    it('a verifier whose instance restarts reconnects and catches up; past the bound it fails closed or introspects', async () => {
      const follower = verifier(a);
      const closed = verifier(a, { maxStalenessMs: 300 });
      const introspecting = verifier(a, { maxStalenessMs: 300, whenStale: 'introspect', introspectionEndpoint: `${b.url}/oauth/introspect` });
      const kept = await login(b);
      const doomed = await login(b);
      for (const rs of [follower, closed, introspecting]) await accepted(rs, kept.access_token);

      a.child.kill('SIGTERM');
      await a.exited();
      await revoke(b, doomed.access_token);
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Down past the bound: 503 (fail closed), or introspection, which knows the revocation.
      expect(await status(closed, kept.access_token)).toBe(503);
      expect(await status(introspecting, kept.access_token)).toBe(200);
      expect(await status(introspecting, doomed.access_token)).toBe(401);

      a = await startServiceProcess({ ...env, DATA_DIR: tempDir(), PORT: String(a.port) });
      // Reconnected with Last-Event-ID: the revocation made while it was away arrives.
      await until(async () => (await status(follower, doomed.access_token)) === 401, 10_000, { what: 'the reconnected verifier to refuse' });
      await accepted(closed, kept.access_token);
      expect(await status(closed, doomed.access_token)).toBe(401);
    }, 60_000);

    it('treats the feed as down until its first replay: a verifier that cannot reach it fails closed', async () => {
      const unreachable = verifier(b, { revocationFeedUrl: 'http://127.0.0.1:9/oauth/revocations' });
      const { access_token: token } = await login(b);
      expect(await status(unreachable, token)).toBe(503);
    });
  });
}
