import type { Family, NewFamily, SubjectSnapshot } from '../families';

/** Snapshot fields: roles and scopes space-joined (neither may contain a space), time in ms. */
export function subjectFields(subject: SubjectSnapshot): Record<'sr' | 'ss' | 'sat', string> {
  return { sr: subject.roles.join(' '), ss: subject.scopes.join(' '), sat: String(subject.at) };
}

function decodeSubject(fields: Record<string, string>): SubjectSnapshot | undefined {
  if (!fields.sat) return undefined;
  const list = (value: string | undefined) => (value ? value.split(' ') : []);
  return { roles: list(fields.sr), scopes: list(fields.ss), at: Number(fields.sat) };
}

/** Family hash fields, as written on creation. */
export function familyFields(family: NewFamily, now: number, absoluteExpiresAt: number, idleExpiresAt: number): Record<string, string> {
  return {
    uid: family.userId,
    un: family.username ?? '',
    cid: family.clientId,
    scope: family.scope.join(' '),
    aud: family.audience,
    created: String(now),
    last: String(now),
    gen: '0',
    cur: family.secretHash,
    state: 'active',
    abs: String(absoluteExpiresAt),
    idle: String(idleExpiresAt),
    ip: family.ip ?? '',
    ua: (family.userAgent ?? '').slice(0, 256),
    ...(family.subject ? subjectFields(family.subject) : {}),
    ...(family.browserSessionId ? { bsid: family.browserSessionId } : {}),
  };
}

/** A family from HGETALL's flat [field, value, ...] reply (or an object). */
export function decodeFamily(id: string, reply: string[] | Record<string, string>): Family | undefined {
  const fields: Record<string, string> = Array.isArray(reply) ? {} : reply;
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) fields[reply[i]!] = reply[i + 1]!;
  if (!fields.uid) return undefined;
  return {
    id,
    userId: fields.uid,
    username: fields.un || undefined,
    clientId: fields.cid ?? '',
    scope: fields.scope ? fields.scope.split(' ') : [],
    audience: fields.aud ?? '',
    createdAt: Number(fields.created),
    authenticatedAt: Number(fields.auth || fields.created),
    lastUsedAt: Number(fields.last),
    generation: Number(fields.gen),
    absoluteExpiresAt: Number(fields.abs),
    idleExpiresAt: Number(fields.idle),
    revoked: fields.state === 'revoked',
    ip: fields.ip || undefined,
    userAgent: fields.ua || undefined,
    subject: decodeSubject(fields),
    browserSessionId: fields.bsid || undefined,
  };
}
