import type { Middleware } from 'koa';
import type { AccessLogPolicy } from '../../config/schema';
import { redactUrl } from '../../logging/logger';
import type { AppState } from '../context';

// The verification hot paths and the probes: each answered request used to cost a log line,
// which at thousands a second is most of the log and a good part of the CPU (issue 17).
const HOT_PATHS: ReadonlySet<string> = new Set(['/oauth/introspect', '/oauth/verify', '/.well-known/jwks.json', '/healthz', '/readyz']);

/** `sampled` keeps one successful hot-path request in this many. */
export const ACCESS_LOG_SAMPLE_EVERY = 100;

/**
 * One log line per request, written when the response is complete. Headers and bodies are
 * never logged; the URL is logged with secret-bearing query parameters replaced. A request that
 * failed or was refused (status 400 and up) is always logged; so is every request off the hot
 * paths. A successful one on a hot path follows ACCESS_LOG: `all`, `errors` (none), or `sampled`
 * (one in ACCESS_LOG_SAMPLE_EVERY, counted, not random). Security facts on those paths (a failed
 * client authentication, a throttle) are events, logged whatever this says.
 */
export function requestLog(policy: AccessLogPolicy): Middleware<AppState> {
  let hotRequests = 0;
  const keep = (): boolean => {
    if (policy === 'all') return true;
    if (policy === 'errors') return false;
    hotRequests = (hotRequests + 1) % ACCESS_LOG_SAMPLE_EVERY;
    return hotRequests === 1;
  };
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const status = ctx.status;
      const logged = status >= 400 || !HOT_PATHS.has(ctx.path) || keep();
      if (logged && ctx.state.log.isLevelEnabled(status >= 500 ? 'error' : 'info')) {
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
    }
  };
}
