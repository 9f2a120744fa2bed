import Router from '@koa/router';
import type { Deps } from '../../deps';
import { authorizationServerMetadata } from '../../oauth/metadata';
import { OAuthError } from '../../oauth/errors';
import { parseFormParams } from '../../oauth/params';
import { handleTokenRequest } from '../../oauth/token-endpoint';
import type { AppContext, AppState } from '../context';

const MULTI_VALUED = new Set(['resource']);
// Kept with a session for its owner to recognise; a bounded length keeps the store bounded.
const MAX_USER_AGENT = 256;

/** RFC 6749 §3.2: token requests are form-encoded POSTs; the raw body is parsed strictly. */
function formParams(ctx: AppContext) {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
  return parseFormParams(raw, MULTI_VALUED);
}

async function scopesSupported(deps: Deps): Promise<string[]> {
  const result = await deps.db.raw<{ rows: Array<{ scope: string }> }>(
    'select scope from role_scopes union select unnest(scopes) from clients order by 1',
  );
  return result.rows.map((row) => row.scope);
}

export function oauthRoutes(deps: Deps): Router<AppState> {
  const router = new Router<AppState>();

  router.post('/oauth/token', async (ctx) => {
    // RFC 6749 §5.1: token responses must not be cached.
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.body = await handleTokenRequest(deps, {
      params: formParams(ctx),
      authorization: ctx.get('authorization') || undefined,
      ip: ctx.ip,
      userAgent: ctx.get('user-agent').slice(0, MAX_USER_AGENT) || undefined,
    });
  });

  router.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${deps.config.jwksMaxAgeSec}`);
    ctx.body = deps.keyring.current.jwks;
  });

  router.get('/.well-known/oauth-authorization-server', async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = authorizationServerMetadata(deps.config, await scopesSupported(deps));
  });

  return router;
}
