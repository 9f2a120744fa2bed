import type { Middleware } from 'koa';
import type { EventHub } from '../../events/hub';
import { IdentityError } from '../../identity/errors';
import { OAuthError } from '../../oauth/errors';
import { ApiError } from '../api-error';
import type { AppState } from '../context';
import { routeTemplate, type RoutedContext } from '../route-template';

// The refusals that say "you may not": a missing scope (RFC 6750 insufficient_scope), a grant or
// target beyond the caller's own rights, a client that a clients file manages.
const REFUSALS: ReadonlySet<string> = new Set(['insufficient_scope', 'forbidden_grant', 'forbidden_target', 'managed_client', 'forbidden']);

function refusalCode(thrown: unknown): string | undefined {
  const code = thrown instanceof OAuthError || thrown instanceof IdentityError || thrown instanceof ApiError ? thrown.code : undefined;
  return code !== undefined && REFUSALS.has(code) ? code : undefined;
}

/**
 * The admin API's refused attempts on the audit trail (`admin.refused`): who tried what on whom
 * and why it was refused, reads included, since a holder of a lesser scope probing the admin API
 * is what an audit is for. Only authenticated callers: a request without a valid token is the
 * request log's (401), so anonymous traffic cannot flood the audit file.
 */
export function auditRefusals(events: EventHub): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (thrown) {
      const reason = refusalCode(thrown);
      const caller = ctx.state.caller;
      if (reason !== undefined && caller !== undefined) {
        events.emit('admin.refused', {
          actor: caller.claims.sub,
          actorUsername: caller.claims.username,
          actorClient: caller.claims.client_id,
          operation: `${ctx.method} ${routeTemplate(ctx as unknown as RoutedContext, ctx.method)}`,
          target: ctx.params.id,
          reason,
          ip: ctx.ip,
          requestId: ctx.state.requestId,
        });
      }
      throw thrown;
    }
  };
}
