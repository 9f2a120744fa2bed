import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Middleware } from 'koa';
import type { EventHub } from '../../events/hub';
import { IdentityError } from '../../identity/errors';
import { OAuthError } from '../../oauth/errors';
import { ApiError } from '../api-error';
import type { AppState } from '../context';
import { routeTemplate, type RoutedContext } from '../route-template';

// The refusals that say "you may not": a missing scope (RFC 6750 insufficient_scope), a grant or
// target beyond the caller's own rights, a client that a clients file manages.
const REFUSALS: ReadonlySet<string> = new Set(['insufficient_scope', 'forbidden_grant', 'forbidden_target', 'managed_client']);

/** One line per actor, operation and reason in this long; the ones held back are counted on the next. */
export const REFUSAL_LINE_INTERVAL_MS = 60_000;

// An id as the routes know them; anything else in the path (16 KB of text, control characters)
// is the caller's to choose, so it is not written to the audit file as it is.
const PLAIN_TARGET = /^[A-Za-z0-9._:@-]{1,64}$/;
const targetOf = (raw: string | undefined): string | undefined =>
  raw === undefined ? undefined : PLAIN_TARGET.test(raw) ? raw : `sha256:${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;

function refusalCode(thrown: unknown): string | undefined {
  const code = thrown instanceof OAuthError || thrown instanceof IdentityError || thrown instanceof ApiError ? thrown.code : undefined;
  return code !== undefined && REFUSALS.has(code) ? code : undefined;
}

/**
 * The admin API's refused attempts on the audit trail (`admin.refused`): who tried what on whom
 * and why it was refused, reads included, since a holder of a lesser scope probing the admin API
 * is what an audit is for. Only authenticated callers: a request without a valid token is the
 * request log's (401), so anonymous traffic cannot flood the audit file. The target is written
 * only when it looks like an id (else as a hash), and repeats are counted, not written.
 */
export function auditRefusals(events: EventHub, now: () => number = () => performance.now()): Middleware<AppState> {
  // Every user's token is accepted here before its scopes are checked, so a loop of refused
  // calls is cheap for anyone: one line a minute per actor, operation and reason, with the count
  // of those held back, keeps the attempt on record without letting it fill the audit file.
  const recent = new LRUCache<string, { until: number; suppressed: number }>({ max: 10_000 });
  return async (ctx, next) => {
    try {
      await next();
    } catch (thrown) {
      const reason = refusalCode(thrown);
      const caller = ctx.state.caller;
      if (reason !== undefined && caller !== undefined) {
        const operation = `${ctx.method} ${routeTemplate(ctx as unknown as RoutedContext, ctx.method)}`;
        const key = `${caller.claims.sub}\u0000${operation}\u0000${reason}`;
        const at = now();
        const last = recent.get(key);
        if (last !== undefined && at < last.until) {
          last.suppressed += 1;
        } else {
          recent.set(key, { until: at + REFUSAL_LINE_INTERVAL_MS, suppressed: 0 });
          events.emit('admin.refused', {
            actor: caller.claims.sub,
            actorUsername: caller.claims.username,
            actorClient: caller.claims.client_id,
            operation,
            target: targetOf(ctx.params.id),
            reason,
            ...(last !== undefined && last.suppressed > 0 ? { suppressed: last.suppressed } : {}),
            ip: ctx.ip,
            requestId: ctx.state.requestId,
          });
        }
      }
      throw thrown;
    }
  };
}
