import { createHash } from 'node:crypto';

// A clients file's declaration digest (README "Clients as code", `revision`): two files that
// declare the same clients get the same digest, so the same revision applied again from another
// copy is recognised as the same, and a change made without bumping the revision is not. It
// covers what the file says (settings, secret references as written: a secretFile's path, a
// secretHash, notAfter), never a secret file's content: a mounted secret that changes under the
// same revision applies as before.

/** JSON with object keys sorted, lists of strings as sets (sorted, once each: clients store them so), dates as ISO text. */
function canonical(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item === 'string')) return [...new Set(value as string[])].sort();
    return value.map(canonical);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, item]) => [key, canonical(item)]),
    );
  }
  return value;
}

/**
 * sha-256 (hex) of the declared clients, in id order (the order of clients in the file changes
 * nothing), a missing `name` read as the id (as the apply does). Secrets keep their order.
 */
export function declarationDigest(clients: ReadonlyArray<{ readonly id: string; readonly name?: string | undefined }>): string {
  const sorted = clients.map((client) => ({ ...client, name: client.name ?? client.id })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(canonical(sorted))).digest('hex');
}
