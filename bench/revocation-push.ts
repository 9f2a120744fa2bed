import { createRequestVerifier, type RequestVerifier } from '@portcullis/verifier/core';

// Issue 17: from a POST /oauth/revoke answered by instance A to a jwks-mode verifier with
// `revocations: 'push'`, subscribed to instance B, refusing the token. The verifier runs in the
// benchmark's own process (a resource service); A and B are service processes sharing Redis.

export interface PushLatency {
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface PushSetup {
  readonly revokeOn: string;
  readonly subscribeTo: string;
  readonly issuer: string;
  readonly audience: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** A fresh access token per sample, with the public client that revokes it. */
  readonly token: () => Promise<string>;
  readonly revokingClient: string;
  readonly samples: number;
}

const round = (value: number) => Math.round(value * 10) / 10;

async function status(verifier: RequestVerifier, token: string): Promise<number> {
  const result = await verifier.verify({ headers: { authorization: `Bearer ${token}` } });
  return result.ok ? 200 : result.status;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error(`revocation push: ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export async function measureRevocationPush(setup: PushSetup): Promise<PushLatency> {
  const verifier = createRequestVerifier({
    mode: 'jwks',
    issuer: setup.issuer,
    audience: setup.audience,
    jwksUri: `${setup.subscribeTo}/.well-known/jwks.json`,
    revocations: 'push',
    revocationFeedUrl: `${setup.subscribeTo}/oauth/revocations`,
    clientId: setup.clientId,
    clientSecret: setup.clientSecret,
  });
  try {
    const latencies: number[] = [];
    for (let i = 0; i < setup.samples; i += 1) {
      const token = await setup.token();
      await waitFor(async () => (await status(verifier, token)) === 200, 'a valid token accepted');
      const res = await fetch(`${setup.revokeOn}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: setup.revokingClient, token }) });
      const since = performance.now();
      if (res.status !== 200) throw new Error(`revocation push: revoke answered ${res.status}`);
      await waitFor(async () => (await status(verifier, token)) === 401, 'the revoked token refused', 5000);
      latencies.push(performance.now() - since);
    }
    const sorted = latencies.sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
    return { samples: sorted.length, p50: round(at(50)), p99: round(at(99)), max: round(sorted.at(-1) ?? 0) };
  } finally {
    verifier.close();
  }
}
