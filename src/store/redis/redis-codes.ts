import type { AuthorizationCode, CodeIssue, CodeRedemption, CodeStore } from '../codes';
import type { Durability } from './durability';
import { keys } from './keys';
import { bindScripts, type RedisClient, type Scripts } from './scripts';

/** Code hash fields. Scope tokens never hold a space (RFC 6749 §3.3), so the scope is space-joined. */
function codeFields(code: AuthorizationCode): string[] {
  return Object.entries({
    cid: code.clientId,
    ruri: code.redirectUri,
    cc: code.codeChallenge,
    uid: code.userId,
    un: code.username,
    scope: code.scope.join(' '),
    aud: code.audience,
    bsid: code.browserSessionId,
    auth: String(code.authTime),
    exp: String(code.expiresAt),
  }).flat();
}

function decodeFields(reply: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[reply[i]!] = reply[i + 1]!;
  return fields;
}

function decodeCode(fields: Record<string, string>): AuthorizationCode {
  return {
    clientId: fields.cid ?? '',
    redirectUri: fields.ruri ?? '',
    codeChallenge: fields.cc ?? '',
    userId: fields.uid ?? '',
    username: fields.un ?? '',
    scope: fields.scope ? fields.scope.split(' ') : [],
    audience: fields.aud ?? '',
    browserSessionId: fields.bsid ?? '',
    authTime: Number(fields.auth),
    expiresAt: Number(fields.exp),
  };
}

function decodeIssue(fields: Record<string, string>): CodeIssue | undefined {
  if (!fields.ijti) return undefined;
  return { jti: fields.ijti, accessTokenExpiresAt: Number(fields.iexp), familyId: fields.ifam || undefined };
}

/** Authorization codes on Redis: one hash per code, each step one Lua script (one round trip). */
export class RedisCodes implements CodeStore {
  private readonly scripts: Scripts;

  constructor(redis: RedisClient, durability?: Durability) {
    this.scripts = bindScripts(redis, durability);
  }

  async saveCode(codeHash: string, code: AuthorizationCode, now: number): Promise<void> {
    await this.scripts.saveCode([keys.code(codeHash)], now, code.expiresAt, ...codeFields(code));
  }

  async redeemCode(codeHash: string, retainMs: number, now: number): Promise<CodeRedemption> {
    const [outcome, ...rest] = await this.scripts.redeemCode([keys.code(codeHash)], now, retainMs);
    if (outcome === 'unknown') return { outcome };
    const fields = decodeFields(rest);
    if (outcome === 'redeemed') return { outcome, code: decodeCode(fields) };
    if (outcome === 'replayed') return { outcome, code: decodeCode(fields), issued: decodeIssue(fields) };
    throw new Error(`unexpected redemption reply: ${String(outcome)}`);
  }

  async recordCodeIssue(codeHash: string, issued: CodeIssue, now: number): Promise<'recorded' | 'replayed'> {
    const reply = await this.scripts.recordCodeIssue([keys.code(codeHash)], now, issued.jti, issued.accessTokenExpiresAt, issued.familyId ?? '');
    if (reply === 'recorded' || reply === 'replayed') return reply;
    throw new Error(`unexpected code issue reply: ${reply}`);
  }
}
