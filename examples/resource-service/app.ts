import Koa from 'koa';
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import type { AuthState, Verifier } from '@portcullis/verifier';
import { itemsCors } from './cors';

// The seed chapter's items API, protected by the Portcullis verifier: what a resource service
// written against Portcullis looks like.

interface Item {
  readonly id: number;
  readonly name: string;
  readonly owner: string;
}

/** `allowedOrigins`: the browser origins that may call this API (CORS); none by default. */
export function createItemsApp(auth: Verifier, { allowedOrigins = new Set<string>() }: { allowedOrigins?: ReadonlySet<string> } = {}): Koa<AuthState> {
  const items: Item[] = [{ id: 1, name: 'first item', owner: 'seed' }];
  const app = new Koa<AuthState>();
  const router = new Router<AuthState>();

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/items', auth.requireScopes('items:read'), (ctx) => {
    ctx.body = items;
  });

  router.post('/items', auth.requireScopes('items:write'), (ctx) => {
    const name = (ctx.request.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'name must be a non-empty string of at most 200 characters' };
      return;
    }
    const item = { id: items.length + 1, name: name.trim(), owner: ctx.state.auth!.sub };
    items.push(item);
    ctx.status = 201;
    ctx.body = item;
  });

  // Any valid token: who is calling. A client's own token (client_credentials) has no user
  // behind it; `subjectType` says which, so a handler never has to guess from `username`.
  router.get('/whoami', auth.authenticate(), (ctx) => {
    const { sub, subjectType, username, clientId } = ctx.state.auth!;
    ctx.body = { sub, subjectType, username: username ?? null, clientId };
  });

  router.get('/admin/dashboard', auth.requireScopes('admin'), (ctx) => {
    ctx.body = { items: items.length, viewer: ctx.state.auth!.username ?? ctx.state.auth!.sub };
  });

  // Anyone may look; a signed-in caller gets a greeting (the seed's optional-user pattern).
  router.get('/items/public', auth.optional(), (ctx) => {
    const who = ctx.state.auth;
    ctx.body = { items: items.map(({ id, name }) => ({ id, name })), greeting: who ? `hello, ${who.username ?? who.sub}` : 'hello, guest' };
  });

  // First, so that refusals (401/403 from the verifier) carry CORS headers too and a browser app
  // can read them.
  app.use(itemsCors(allowedOrigins));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '16kb' }));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
