import type Router from '@koa/router';
import type { z } from 'zod';
import { createClientAs, deleteClientAs, removeSecretAs, rotateSecretAs, updateClientAs } from '../../admin/clients';
import { createClientBody, rotateSecretBody, updateClientBody } from '../../admin/schemas';
import type { Deps } from '../../deps';
import { listClientSecrets, secretsByClient } from '../../identity/client-secret-records';
import { findClient, listClients, publicClient } from '../../identity/clients';
import { ApiError } from '../api-error';
import type { AppContext, AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { apiRouter } from './api-router';
import { requireScope } from '../middleware/bearer-auth';
import { jsonBody } from '../validate';
import { clientView, rotationView } from '../../identity/views';
import { actorOf } from './admin-users';

const notFound = () => new ApiError(404, 'not_found', 'no such client');

/** A body that may be left out entirely (no content, no type): then `{}`, else validated as JSON. */
function optionalJsonBody<S extends z.ZodType>(ctx: AppContext, schema: S): z.infer<S> {
  if (!ctx.request.type && !ctx.request.length) return schema.parse({});
  return jsonBody(ctx, schema);
}

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
    const [clients, secrets] = await Promise.all([listClients(deps.db), secretsByClient(deps.db)]);
    ctx.body = clients.map((client) => clientView(client, secrets.get(client.id) ?? []));
  });

  router.post('/', write, async (ctx) => {
    const body = jsonBody(ctx, createClientBody);
    const { client, secret } = await createClientAs(deps, actorOf(ctx), body);
    ctx.status = 201;
    // The secret is shown this once; only its hash is kept.
    ctx.body = { ...clientView(client, await listClientSecrets(deps.db, client.id)), ...(secret !== undefined ? { client_secret: secret } : {}) };
  });

  router.get('/:id', read, async (ctx) => {
    const client = await findClient(deps.db, ctx.params.id!);
    if (!client) throw notFound();
    ctx.body = clientView(publicClient(client), await listClientSecrets(deps.db, client.id));
  });

  router.patch('/:id', write, async (ctx) => {
    const body = jsonBody(ctx, updateClientBody);
    const client = await updateClientAs(deps, actorOf(ctx), ctx.params.id!, body);
    if (!client) throw notFound();
    ctx.body = clientView(client, await listClientSecrets(deps.db, client.id));
  });

  // The emergency replacement: the client's other secrets end at once.
  router.post('/:id/secret', write, async (ctx) => {
    ctx.body = { client_secret: (await rotateSecretAs(deps, actorOf(ctx), ctx.params.id!, 0)).secret };
  });

  // Rotation with overlap: a new secret, the others end keepOldFor from now (CLIENT_SECRET_OVERLAP).
  router.post('/:id/secrets', write, async (ctx) => {
    const { keepOldFor } = optionalJsonBody(ctx, rotateSecretBody);
    const rotated = await rotateSecretAs(deps, actorOf(ctx), ctx.params.id!, keepOldFor ?? deps.config.clientSecretOverlapSec);
    ctx.status = 201;
    ctx.body = rotationView(ctx.params.id!, rotated);
  });

  router.delete('/:id/secrets/:secretId', write, async (ctx) => {
    if (!(await removeSecretAs(deps, actorOf(ctx), ctx.params.id!, ctx.params.secretId!))) throw new ApiError(404, 'not_found', 'no such secret');
    ctx.status = 204;
  });

  router.delete('/:id', write, async (ctx) => {
    if (!(await deleteClientAs(deps, actorOf(ctx), ctx.params.id!))) throw notFound();
    ctx.status = 204;
  });

  return router;
}
