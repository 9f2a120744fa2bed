import cluster from 'node:cluster';
import type Router from '@koa/router';
import { newRouter } from './router';
import { z } from 'zod';
import { defineRoute } from '../openapi/route';
import type { Health } from '../health';
import type { AppState } from '../context';

const readinessSchema = z
  .object({
    status: z.enum(['ready', 'degraded', 'unavailable', 'draining']),
    checks: z.record(z.string(), z.looseObject({ status: z.string(), backend: z.string().optional(), reason: z.string().optional() })),
    worker: z.number().int().optional().describe('with WORKERS above 1: the worker that answered (each reports its own state)'),
  })
  .meta({ id: 'Readiness', description: 'Each dependency\'s state' });

export function healthRoutes(health: Health): Router<AppState> {
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

  // Readiness: what this instance can still serve (http/health.ts). 200 while the token store
  // answers, even without the database ("degraded": the hot paths need only the store); 503
  // without the store, or while draining. The body names each dependency's state either way.
  defineRoute(router, {
    method: 'get', path: '/readyz', operationId: 'readiness', summary: 'Readiness: whether this instance should get traffic', tags: ['Health'], auth: { kind: 'none' },
    responses: { 200: { description: 'ready', schema: readinessSchema }, 503: { description: 'not ready: the body names the dependency', schema: readinessSchema } },
    examples: [{ summary: 'ready' }],
  }, async (ctx) => {
    const report = await health.check();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = report.ready ? 200 : 503;
    ctx.body = { status: report.status, checks: report.checks, ...(cluster.worker ? { worker: cluster.worker.id } : {}) };
  });

  return router;
}
