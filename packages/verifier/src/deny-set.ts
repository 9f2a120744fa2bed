// The revocations pushed to this process, checked against each locally verified token. Every
// entry carries the time after which the tokens it affects have expired anyway, and goes then.

interface Epoch {
  readonly epoch: number;
  readonly until: number;
}

/** The claims a revocation can match. */
export interface RevocableClaims {
  readonly jti: string;
  readonly sub: string;
  readonly client_id: string;
  readonly iat: number;
  readonly sid?: string | undefined;
}

// The server's jti is a UUIDv7 (RFC 9562 §5.7) whose first 48 bits are the issue time in ms;
// epochs compare with that, else with the last millisecond of `iat` (as the server does).
const V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function issuedAtMs(jti: string, iatSec: number): number {
  const match = V7.exec(jti);
  return match ? parseInt(`${match[1]}${match[2]}`, 16) : iatSec * 1000 + 999;
}

export class DenySet {
  private readonly jtis = new Map<string, number>();
  private readonly sids = new Map<string, number>();
  private readonly users = new Map<string, Epoch>();
  private readonly clients = new Map<string, Epoch>();
  /** The server's store lost its data: every token issued before `before` (Unix ms) is revoked. */
  private lost: { before: number; until: number } | undefined;
  /** More live entries arrived than the bound: this set can no longer vouch for a token. */
  overflowed = false;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.jtis.size + this.sids.size + this.users.size + this.clients.size;
  }

  addJti(jti: string, exp: number, nowSec: number): void {
    if (exp > nowSec) this.put(this.jtis, jti, exp, nowSec);
  }

  addSid(sid: string, until: number, nowSec: number): void {
    if (until > nowSec) this.put(this.sids, sid, until, nowSec);
  }

  addUserEpoch(sub: string, epoch: number, until: number, nowSec: number): void {
    this.moveEpoch(this.users, sub, epoch, until, nowSec);
  }

  addClientEpoch(clientId: string, epoch: number, until: number, nowSec: number): void {
    this.moveEpoch(this.clients, clientId, epoch, until, nowSec);
  }

  /** The server lost its revocations (a Redis restarted empty): tokens issued before then count as revoked. */
  addLost(before: number, until: number, nowSec: number): void {
    if (until <= nowSec) return;
    this.lost = { before: Math.max(before, this.lost?.before ?? 0), until: Math.max(until, this.lost?.until ?? 0) };
  }

  /** The token is revoked by something pushed here (and still current). */
  denies(claims: RevocableClaims, nowSec: number): boolean {
    if (live(this.jtis.get(claims.jti), nowSec)) return true;
    if (claims.sid !== undefined && live(this.sids.get(claims.sid), nowSec)) return true;
    const issued = issuedAtMs(claims.jti, claims.iat);
    if (this.lost && live(this.lost.until, nowSec) && issued < this.lost.before) return true;
    const user = this.users.get(claims.sub);
    if (user && live(user.until, nowSec) && issued <= user.epoch) return true;
    const client = this.clients.get(claims.client_id);
    return client !== undefined && live(client.until, nowSec) && issued <= client.epoch;
  }

  private moveEpoch(map: Map<string, Epoch>, id: string, epoch: number, until: number, nowSec: number): void {
    if (until <= nowSec) return;
    const previous = map.get(id);
    // Epochs only move forward (a replayed older one must not shorten a newer).
    const next = { epoch: Math.max(epoch, previous?.epoch ?? 0), until: Math.max(until, previous?.until ?? 0) };
    this.put(map, id, next, nowSec);
  }

  private put<V>(map: Map<string, V>, key: string, value: V, nowSec: number): void {
    if (!map.has(key) && this.size >= this.maxEntries) {
      this.prune(nowSec);
      if (this.size >= this.maxEntries) {
        this.overflowed = true;
        return;
      }
    }
    map.set(key, value);
  }

  /** Drops what has expired; a full set that frees room can vouch again. */
  prune(nowSec: number): void {
    for (const [key, exp] of this.jtis) if (exp <= nowSec) this.jtis.delete(key);
    for (const [key, until] of this.sids) if (until <= nowSec) this.sids.delete(key);
    for (const map of [this.users, this.clients]) for (const [key, entry] of map) if (entry.until <= nowSec) map.delete(key);
    if (this.lost && this.lost.until <= nowSec) this.lost = undefined;
  }
}

function live(until: number | undefined, nowSec: number): boolean {
  return until !== undefined && until > nowSec;
}
