import type Router from '@koa/router';
import { newRouter } from './router';
import { TimeoutError, withTimeout } from '../../async';
import { pingDatabase } from '../../db/database';
import type { Deps } from '../../deps';
import type { AppState } from '../context';

type CheckResult = { status: 'ok' | 'down'; backend: string; reason?: string };

async function check(backend: string, probe: () => Promise<void>, timeoutMs: number): Promise<CheckResult> {
  try {
    await withTimeout(probe(), timeoutMs);
    return { status: 'ok', backend };
  } catch (error) {
    // The reason stays generic: /readyz is often reachable from outside, and driver messages
    // name hosts and ports.
    return { status: 'down', backend, reason: error instanceof TimeoutError ? 'timeout' : 'unreachable' };
  }
}

export function healthRoutes(deps: Pick<Deps, 'config' | 'db' | 'dbKind' | 'storage'>): Router<AppState> {
  const router = newRouter();

  // Liveness: the process answers. Deliberately checks nothing else, so an orchestrator does
  // not restart healthy instances during a database outage.
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  // Readiness: both stores answer within the timeout; 503 names the one that did not.
  router.get('/readyz', async (ctx) => {
    const timeoutMs = deps.config.readinessTimeoutMs;
    const [database, store] = await Promise.all([
      check(deps.dbKind, () => pingDatabase(deps.db), timeoutMs),
      check(deps.storage.kind, () => deps.storage.ping(), timeoutMs),
    ]);
    const ready = database.status === 'ok' && store.status === 'ok';
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks: { database, store } };
  });

  return router;
}
