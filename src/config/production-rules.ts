import net from 'node:net';

// Settings that are fine on a laptop and unsafe in a deployment. Each rule returns the problem
// to report (in loadConfig's "NAME: message" form), or undefined when the setting passes.

// RFC 8252 §8.3 / RFC 6761 §6.3: these names and addresses never leave the machine, so plain
// http to them crosses no network.
function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return net.isIPv4(hostname) && hostname.startsWith('127.');
}

/**
 * RFC 8414 §2: the issuer identifier uses the https scheme; RFC 6749 §3.1 and §3.2 require TLS
 * for the endpoints under it, where passwords, client secrets and tokens travel. The override is
 * for a deployment reached only over a network the operator already trusts.
 */
export function insecureIssuerProblem(issuer: string, allowInsecure: boolean): string | undefined {
  const url = new URL(issuer);
  if (url.protocol === 'https:' || allowInsecure || isLoopback(url.hostname)) return undefined;
  return 'ISSUER: must use https when NODE_ENV=production (RFC 8414 §2); http is allowed only for a loopback host, or with ALLOW_INSECURE_ISSUER=true';
}

/** OWASP Password Storage Cheat Sheet, argon2id with one lane: equally strong trade-offs of
 *  memory (KiB) against passes. A setting at or above any one row is acceptable. */
const OWASP_ARGON2ID_MINIMUMS: ReadonlyArray<{ readonly memoryKib: number; readonly timeCost: number }> = [
  { memoryKib: 47104, timeCost: 1 },
  { memoryKib: 19456, timeCost: 2 },
  { memoryKib: 12288, timeCost: 3 },
  { memoryKib: 9216, timeCost: 4 },
  { memoryKib: 7168, timeCost: 5 },
];

const TABLE = OWASP_ARGON2ID_MINIMUMS.map(({ memoryKib, timeCost }, index) => `${memoryKib} KiB × ${timeCost}${index === 0 ? ' pass' : ''}`).join(', ');

/** Weaker hashing makes every stolen password hash cheaper to crack offline. Parallelism is not
 *  part of the rule: more lanes speed up the server's hash, not the attacker's cost. */
export function weakArgon2Problem(memoryKib: number, timeCost: number): string | undefined {
  if (OWASP_ARGON2ID_MINIMUMS.some((row) => memoryKib >= row.memoryKib && timeCost >= row.timeCost)) return undefined;
  return `ARGON2_MEMORY_KIB=${memoryKib} with ARGON2_TIME_COST=${timeCost}: below the OWASP argon2id minimum; in production use at least one of ${TABLE}`;
}
