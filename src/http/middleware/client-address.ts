import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Middleware } from 'koa';
import proxyAddr from 'proxy-addr';
import type { TrustProxy } from '../../config/config';
import type { AppState } from '../context';

/**
 * Decides the client's address once per request and stores it as `ctx.request.ip`, which Koa
 * lets us set: the request log, grants (audit events) and sessions all read `ctx.ip` and so see
 * this value. Koa's own `app.proxy` stays false; believing X-Forwarded-For is decided here only,
 * by TRUST_PROXY, because throttling keys on this address and a client that can choose it can
 * spread its guesses over as many keys as it likes (or lock out someone else).
 */
export function clientAddress(trust: TrustProxy): Middleware<AppState> {
  const resolve = clientAddressResolver(trust);
  return async (ctx, next) => {
    ctx.request.ip = resolve(ctx.req);
    await next();
  };
}

/** The address of the request's client under this trust, in one canonical spelling. */
export function clientAddressResolver(trust: TrustProxy): (req: IncomingMessage) => string {
  if (trust.kind === 'off') return socketAddress;
  // A hop count means what it means in express: the socket's peer and the N-1 nearest entries of
  // X-Forwarded-For are our proxies, so 1 hop yields the last entry of the header.
  const isProxy = trust.kind === 'hops' ? (_address: string, index: number) => index < trust.hops : proxyAddr.compile([...trust.list]);
  return (req) => {
    if (req.socket.remoteAddress === undefined) return '';
    // The socket's peer, then X-Forwarded-For from the right, ending at the first address that
    // is not a trusted proxy: every entry here but the last was written by a proxy we trust.
    const chain = proxyAddr.all(req, isProxy).map(canonicalAddress);
    const client = chain.at(-1);
    // A trusted proxy that forwarded something other than an address has told us nothing we
    // can key on; the peer we can see is the one fact left.
    if (client === undefined || chain.includes(undefined)) return socketAddress(req);
    return client;
  };
}

// A peer's canonical form, by its text as the socket gives it: an IPv6 or mapped address is
// canonicalised through the URL parser, which on every request was a visible cost on the hot
// paths (a service sees few peers: proxies, sidecars, resource services). Bounded by clearing.
const canonicalPeers = new Map<string, string>();
const CANONICAL_PEERS_MAX = 1024;

function socketAddress(req: IncomingMessage): string {
  const peer = req.socket.remoteAddress;
  if (peer === undefined) return '';
  let canonical = canonicalPeers.get(peer);
  if (canonical === undefined) {
    canonical = canonicalAddress(peer) ?? '';
    if (canonicalPeers.size >= CANONICAL_PEERS_MAX) canonicalPeers.clear();
    canonicalPeers.set(peer, canonical);
  }
  return canonical;
}

/**
 * One spelling per address, so a throttle key cannot be dodged by writing the same address
 * another way: IPv4 as is (node rejects leading zeros), IPv4-mapped IPv6 (`::ffff:127.0.0.2`, how
 * a dual-stack socket reports IPv4 peers) as the IPv4 address, other IPv6 in RFC 5952 form.
 * Undefined for anything that is not an address (a name, a port suffix, `unknown`).
 */
export function canonicalAddress(text: string): string | undefined {
  const family = net.isIP(text);
  if (family === 4) return text;
  if (family !== 6) return undefined;
  // A zone (`fe80::1%eth0`) names the local interface of a link-local peer; it is kept as is.
  const zoneAt = text.indexOf('%');
  const bare = zoneAt === -1 ? text : text.slice(0, zoneAt);
  const zone = zoneAt === -1 ? '' : text.slice(zoneAt);
  let host: string;
  try {
    // The WHATWG URL serialiser writes IPv6 as RFC 5952 §4 does: lower case, the first longest
    // run of zero groups compressed, embedded IPv4 in hex.
    host = new URL(`http://[${bare}]`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped && zone === '') {
    const high = parseInt(mapped[1]!, 16);
    const low = parseInt(mapped[2]!, 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return host + zone;
}
