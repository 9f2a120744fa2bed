import type { Middleware } from 'koa';
import { redactUrl } from '../../logging/logger';
import type { AppState } from '../context';

/** One log line per request, written when the response is complete. Headers and bodies are
 *  never logged; the URL is logged with secret-bearing query parameters replaced. */
export function requestLog(): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const status = ctx.status;
      const line = {
        event: 'http.request',
        method: ctx.method,
        url: redactUrl(ctx.originalUrl),
        status,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        remoteAddress: ctx.ip,
        userAgent: ctx.get('user-agent') || undefined,
        // Token, introspection and revocation requests: which client, with which secret id.
        clientId: ctx.state.client?.id,
        secretId: ctx.state.client?.secretId,
      };
      if (status >= 500) ctx.state.log.error(line, 'request failed');
      else ctx.state.log.info(line, 'request');
    }
  };
}
