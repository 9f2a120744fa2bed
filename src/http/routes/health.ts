import type Router from '@koa/router';
import { newRouter } from './router';
import { z } from 'zod';
import { defineRoute } from '../openapi/route';
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

const readinessSchema = z
  .object({
    status: z.enum(['ready', 'degraded', 'unavailable', 'draining']),
    checks: z.record(z.string(), z.looseObject({ status: z.string(), backend: z.string().optional(), reason: z.string().optional() })),
  })
  .meta({ id: 'Readiness', description: 'Each dependency\'s state' });

export function healthRoutes(deps: Pick<Deps, 'config' | 'db' | 'dbKind' | 'storage'>): Router<AppState> {
  const router = newRouter();

  // Liveness: the process answers. Deliberately checks nothing else, so an orchestrator does
  // not restart healthy instances during a database outage.
  defineRoute(router, {
    method: 'get', path: '/healthz', operationId: 'liveness', summary: 'Liveness: 200 while the process answers', tags: ['Health'], auth: { kind: 'none' },
    responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } },
    examples: [{ summary: 'alive' }],
  }, (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  // Readiness: both stores answer within the timeout; 503 names the one that did not.
  defineRoute(router, {
    method: 'get', path: '/readyz', operationId: 'readiness', summary: 'Readiness: whether this instance should get traffic', tags: ['Health'], auth: { kind: 'none' },
    responses: { 200: { description: 'ready', schema: readinessSchema }, 503: { description: 'not ready: the body names the dependency', schema: readinessSchema } },
    examples: [{ summary: 'ready' }],
  }, async (ctx) => {
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
