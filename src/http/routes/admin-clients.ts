import type Router from '@koa/router';
import { createClientAs, deleteClientAs, rotateSecretAs, updateClientAs } from '../../admin/clients';
import { createClientBody, updateClientBody } from '../../admin/schemas';
import type { Deps } from '../../deps';
import { findClient, listClients, publicClient } from '../../identity/clients';
import { ApiError } from '../api-error';
import type { AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { apiRouter } from './api-router';
import { requireScope } from '../middleware/bearer-auth';
import { jsonBody } from '../validate';
import { clientView } from '../views';
import { actorOf } from './admin-users';

const notFound = () => new ApiError(404, 'not_found', 'no such client');

/** /admin/clients: scopes clients:read, clients:write (admin grants both). */
export function adminClientRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = apiRouter('/admin/clients', hot, deps.config.issuer);
  router.use(async (ctx, next) => {
    await next();
    // This instance forgets a changed client at once; others within CLIENT_CACHE_TTL.
    if (ctx.method !== 'GET') {
      hot.clients.clear();
      hot.origins.clear();
    }
  });
  const read = requireScope('clients:read');
  const write = requireScope('clients:write');

  router.get('/', read, async (ctx) => {
    ctx.body = (await listClients(deps.db)).map(clientView);
  });

  router.post('/', write, async (ctx) => {
    const body = jsonBody(ctx, createClientBody);
    const { client, secret } = await createClientAs(deps, actorOf(ctx), body);
    ctx.status = 201;
    // The secret is shown this once; only its hash is kept.
    ctx.body = { ...clientView(client), ...(secret !== undefined ? { client_secret: secret } : {}) };
  });

  router.get('/:id', read, async (ctx) => {
    const client = await findClient(deps.db, ctx.params.id!);
    if (!client) throw notFound();
    ctx.body = clientView(publicClient(client));
  });

  router.patch('/:id', write, async (ctx) => {
    const body = jsonBody(ctx, updateClientBody);
    const client = await updateClientAs(deps, actorOf(ctx), ctx.params.id!, body);
    if (!client) throw notFound();
    ctx.body = clientView(client);
  });

  router.post('/:id/secret', write, async (ctx) => {
    ctx.body = { client_secret: await rotateSecretAs(deps, actorOf(ctx), ctx.params.id!) };
  });

  router.delete('/:id', write, async (ctx) => {
    if (!(await deleteClientAs(deps, actorOf(ctx), ctx.params.id!))) throw notFound();
    ctx.status = 204;
  });

  return router;
}
