import Koa from 'koa';
import request from 'supertest';
import type { AppState } from '../../src/http/context';
import { hotRoutes } from '../../src/http/hot-routes';
import { routeTemplate, type RoutedContext } from '../../src/http/route-template';
import { newRouter } from '../../src/http/routes/router';

// Issue 17's lean path: the hot endpoints run the routers' own route, composed once, behind only
// the middleware given; everything else, and any method the routers do not serve there, goes on
// to the general chain.

describe('hotRoutes', () => {
  function app() {
    const seen: string[] = [];
    const health = newRouter();
    health.get('/healthz', (ctx) => {
      seen.push('healthz');
      ctx.body = { status: 'ok' };
    });
    const oauth = newRouter();
    oauth.use('/oauth/introspect', async (ctx, next) => {
      seen.push('router middleware');
      await next();
    });
    oauth.post('/oauth/introspect', (ctx) => {
      seen.push('introspect');
      ctx.body = { active: false };
    });
    oauth.all('/oauth/verify', (ctx) => {
      seen.push(`verify ${ctx.method}`);
      ctx.status = 204;
    });
    const routers = [health, oauth];
    const match = jest.spyOn(oauth, 'match');
    const koa = new Koa<AppState>();
    const routes: string[] = [];
    koa.use(async (ctx, next) => {
      await next();
      routes.push(routeTemplate(ctx as unknown as RoutedContext, ctx.method));
    });
    koa.use(hotRoutes(routers, [async (_ctx, next) => {
      seen.push('wrap');
      await next();
    }]));
    // The general chain: marks what reached it.
    koa.use(async (ctx, next) => {
      seen.push('general');
      await next();
    });
    for (const router of routers) {
      koa.use(router.routes());
      koa.use(router.allowedMethods());
    }
    return { koa, seen, routes, match };
  }

  it('runs the route with its router middleware behind the given wrap, composed once per method and path', async () => {
    const { koa, seen, routes, match } = app();
    for (let i = 0; i < 3; i += 1) {
      const res = await request(koa.callback()).post('/oauth/introspect');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    }
    expect(seen).toEqual(Array.from({ length: 3 }, () => ['wrap', 'router middleware', 'introspect']).flat());
    expect(match).toHaveBeenCalledTimes(1);
    // The metrics and audit see the route template, as from the router.
    expect(routes).toEqual(['/oauth/introspect', '/oauth/introspect', '/oauth/introspect']);
  });

  it('serves every method a route takes (forward-auth answers any method)', async () => {
    const { koa, seen } = app();
    expect((await request(koa.callback()).get('/oauth/verify')).status).toBe(204);
    expect((await request(koa.callback()).delete('/oauth/verify')).status).toBe(204);
    expect(seen).toEqual(['wrap', 'verify GET', 'wrap', 'verify DELETE']);
  });

  it('leaves a method the routers do not serve on a hot path to the general chain (405 from the router)', async () => {
    const { koa, seen } = app();
    const res = await request(koa.callback()).get('/oauth/introspect');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toContain('POST');
    expect(seen).toEqual(['general']);
  });

  it('leaves every other path to the general chain', async () => {
    const { koa, seen } = app();
    expect((await request(koa.callback()).get('/elsewhere')).status).toBe(404);
    expect(seen).toEqual(['general']);
  });
});
