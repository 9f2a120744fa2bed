import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createApp } from '../../src/http/app';
import { canonicalAddress } from '../../src/http/middleware/client-address';
import { listen, type ListeningServer } from '../../src/http/server';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import { testConfig } from '../support/env';
import { ISSUER } from '../support/oauth-fixture';

// The address the service sees is what throttling will key on (issue 12), so these requests come
// from real, different source addresses: loopback accepts any 127/8 source, and X-Forwarded-For
// is written by the test as a proxy would.

interface Sent {
  readonly status: number;
  readonly body: string;
  /** The client address the service logged for this request. */
  readonly address: unknown;
}

describe('the client address (TRUST_PROXY)', () => {
  let fixture: ApiFixture;
  const servers: ListeningServer[] = [];

  beforeAll(async () => {
    fixture = await apiFixture();
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close(1000)));
    await fixture.deps.cleanup();
  });

  async function serve(trustProxy: string | undefined, host = '127.0.0.1'): Promise<ListeningServer> {
    const config = { ...fixture.deps.config, trustProxy: testConfig({ TRUST_PROXY: trustProxy }).trustProxy };
    const app = createApp({ ...fixture.deps, config });
    expect(app.proxy).toBe(false);
    const server = await listen(app, 0, host, fixture.deps.log);
    servers.push(server);
    return server;
  }

  function send(
    server: ListeningServer,
    { from = '127.0.0.2', forwardedFor, method = 'GET', path = '/healthz', headers = {}, body }: { from?: string; forwardedFor?: string; method?: string; path?: string; headers?: Record<string, string | string[]>; body?: string },
  ): Promise<Sent> {
    const requestId = randomUUID();
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          // The IPv4-mapped listener is reached over IPv4, like a dual-stack server.
          host: from.includes(':') ? '::1' : '127.0.0.1',
          port: server.port,
          localAddress: from,
          method,
          path,
          // A connection per request: the source address is the connection's.
          agent: false,
          headers: { 'x-request-id': requestId, ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }), ...headers },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const line = fixture.deps.logs.events('http.request').find((entry) => entry.reqId === requestId);
            resolve({ status: res.statusCode ?? 0, body: text, address: line?.remoteAddress });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  describe('off (the default)', () => {
    it('is off unless set, and then ignores X-Forwarded-For: the socket address wins', async () => {
      const server = await serve(undefined);
      expect((await send(server, {})).address).toBe('127.0.0.2');
      expect((await send(server, { from: '127.0.0.3', forwardedFor: '203.0.113.7' })).address).toBe('127.0.0.3');
      expect((await send(server, { forwardedFor: '127.0.0.1' })).address).toBe('127.0.0.2');
    });

    it('is off for TRUST_PROXY=false and 0', async () => {
      for (const setting of ['false', '0']) {
        const server = await serve(setting);
        expect((await send(server, { forwardedFor: '203.0.113.7' })).address).toBe('127.0.0.2');
      }
    });
  });

  describe('a hop count', () => {
    it('with 1 hop takes the last X-Forwarded-For entry, the one our proxy wrote', async () => {
      const server = await serve('1');
      expect((await send(server, { forwardedFor: '203.0.113.7' })).address).toBe('203.0.113.7');
      expect((await send(server, { forwardedFor: '198.51.100.66, 203.0.113.7' })).address).toBe('203.0.113.7');
    });

    it('with 2 hops skips the second proxy in the chain', async () => {
      const server = await serve('2');
      expect((await send(server, { forwardedFor: '198.51.100.66, 203.0.113.7, 10.0.0.5' })).address).toBe('203.0.113.7');
      // Two headers are one list (RFC 9110 §5.3).
      expect((await send(server, { headers: { 'x-forwarded-for': ['198.51.100.66', '203.0.113.7'] } })).address).toBe('198.51.100.66');
    });

    it('uses the socket address when no header came', async () => {
      const server = await serve('1');
      expect((await send(server, {})).address).toBe('127.0.0.2');
    });
  });

  describe('a list of trusted proxies', () => {
    it('takes the first untrusted address from the right', async () => {
      const server = await serve('127.0.0.0/8, 10.0.0.0/8');
      expect((await send(server, { forwardedFor: '198.51.100.66, 203.0.113.7, 10.0.0.5, 10.1.2.3' })).address).toBe('203.0.113.7');
    });

    it('never lets a spoofed leftmost entry win', async () => {
      const server = await serve('127.0.0.0/8, 10.0.0.0/8');
      // The client wrote its own X-Forwarded-For; our proxy appended the address it really saw.
      expect((await send(server, { forwardedFor: '198.51.100.66, 203.0.113.7' })).address).toBe('203.0.113.7');
      // Even a spoofed entry inside a trusted range: the walk stops at the real client first.
      expect((await send(server, { forwardedFor: '10.9.9.9, 203.0.113.7' })).address).toBe('203.0.113.7');
    });

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
      const server = await serve('127.0.0.1');
      expect((await send(server, { from: '127.0.0.2', forwardedFor: '203.0.113.7' })).address).toBe('127.0.0.2');
      expect((await send(server, { from: '127.0.0.1', forwardedFor: '203.0.113.7' })).address).toBe('203.0.113.7');
    });

    it('trusts the loopback name', async () => {
      const server = await serve('loopback');
      expect((await send(server, { forwardedFor: '203.0.113.7' })).address).toBe('203.0.113.7');
    });
  });

  describe('a malformed X-Forwarded-For', () => {
    it.each([['1', 'not-an-address'], ['1', '203.0.113.7:443'], ['1', '[2001:db8::1]'], ['1', '203.0.113.007'], ['loopback', 'unknown'], ['loopback', '203.0.113.7, garbage'], ['2', '203.0.113.7, garbage']])(
      'under TRUST_PROXY=%p, %p is not believed: the socket address is used',
      async (trust, forwardedFor) => {
        const server = await serve(trust);
        expect((await send(server, { forwardedFor })).address).toBe('127.0.0.2');
      },
    );

    it('does not matter left of the client the trusted proxies name', async () => {
      const server = await serve('loopback');
      expect((await send(server, { forwardedFor: 'garbage, 203.0.113.7' })).address).toBe('203.0.113.7');
    });
  });

  describe('one spelling per address', () => {
    it('writes an IPv4-mapped socket address as IPv4', async () => {
      // A socket bound to an IPv6 address sees IPv4 peers as ::ffff:a.b.c.d.
      const server = await serve(undefined, '::ffff:127.0.0.1');
      expect((await send(server, { from: '127.0.0.3' })).address).toBe('127.0.0.3');
    });

    it('trusts an IPv4-mapped proxy by its IPv4 range and writes a forwarded address canonically', async () => {
      const server = await serve('127.0.0.0/8', '::ffff:127.0.0.1');
      expect((await send(server, { from: '127.0.0.3', forwardedFor: '::FFFF:203.0.113.7' })).address).toBe('203.0.113.7');
      expect((await send(server, { from: '127.0.0.3', forwardedFor: '2001:DB8:0:0:0::1' })).address).toBe('2001:db8::1');
    });

    it.each([
      ['127.0.0.2', '127.0.0.2'],
      ['::ffff:127.0.0.2', '127.0.0.2'],
      ['::ffff:7f00:2', '127.0.0.2'],
      ['2001:0DB8::0:1', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['fe80::1%eth0', 'fe80::1%eth0'],
      ['localhost', undefined],
      ['', undefined],
    ])('spells %p as %p', (text, expected) => {
      expect(canonicalAddress(text)).toBe(expected);
    });
  });

  describe('IPv6', () => {
    it('sees an ::1 client, and trusts ::1 as a loopback proxy', async () => {
      expect((await send(await serve(undefined, '::1'), { from: '::1', forwardedFor: '203.0.113.7' })).address).toBe('::1');
      expect((await send(await serve('loopback', '::1'), { from: '::1', forwardedFor: '2001:db8::7' })).address).toBe('2001:db8::7');
    });
  });

  it('is the address a login records on its session', async () => {
    const server = await serve('loopback');
    const login = await send(server, {
      method: 'POST',
      path: '/oauth/token',
      forwardedFor: '198.51.100.66, 203.0.113.7',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'console', username: 'reader', password: 'reader-password', scope: 'users:read:own', resource: ISSUER }).toString(),
    });
    expect(login.status).toBe(200);
    const { access_token: accessToken } = JSON.parse(login.body) as { access_token: string };
    const sessions = await send(server, { path: '/users/me/sessions', headers: { authorization: `Bearer ${accessToken}` } });
    expect(sessions.status).toBe(200);
    expect(JSON.parse(sessions.body)).toEqual([expect.objectContaining({ ip: '203.0.113.7', current: true })]);
  });
});
