import type Router from '@koa/router';
import { z } from 'zod';
import { createClientAs, deleteClientAs, removeSecretAs, rotateSecretAs, updateClientAs } from '../../admin/clients';
import { createClientBody, rotateSecretBody, updateClientBody } from '../../admin/schemas';
import type { Deps } from '../../deps';
import { listClientSecrets, secretsByClient } from '../../identity/client-secret-records';
import { findClient, listClients, publicClient } from '../../identity/clients';
import { ApiError, apiErrorSchema } from '../api-error';
import type { AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { apiRouter } from './api-router';
import { auditRefusals } from '../middleware/audit-refusals';
import { clientView, clientViewSchema, rotationView, rotationViewSchema } from '../../identity/views';
import { defineRoute } from '../openapi/route';
import { actorOf } from './admin-users';

const notFound = () => new ApiError(404, 'not_found', 'no such client');

/** /admin/clients: scopes clients:read, clients:write (admin grants both). */
export function adminClientRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = apiRouter('/admin/clients', hot, deps.config.issuer);
  router.use(auditRefusals(deps.events));
  router.use(async (ctx, next) => {
    await next();
    // This instance forgets a changed client at once; others within CLIENT_CACHE_TTL.
    if (ctx.method !== 'GET') {
      hot.clients.clear();
      hot.origins.clear();
    }
  });
  const tags = ['Admin: clients'];
  const read = { kind: 'bearer', scopes: ['clients:read'] } as const;
  const write = { kind: 'bearer', scopes: ['clients:write'] } as const;
  const id = { id: { description: 'the client id' } };
  const noContent = { description: 'done' };
  const notFoundResponse = { description: 'no such client', schema: apiErrorSchema };
  const refused = { description: 'the change breaks a rule of the identity model (forbidden_grant, forbidden_target)', schema: apiErrorSchema };
  const conflict = (what: string) => ({ description: what, schema: apiErrorSchema });

  defineRoute(router, {
    method: 'get', path: '/admin/clients', operationId: 'listClients', summary: 'List clients', tags, auth: read,
    responses: { 200: { description: 'every client', schema: z.array(clientViewSchema) } },
    examples: [{ summary: 'every client' }],
  }, async (ctx) => {
    const [clients, secrets] = await Promise.all([listClients(deps.db), secretsByClient(deps.db)]);
    ctx.body = clients.map((client) => clientView(client, secrets.get(client.id) ?? []));
  });

  defineRoute(router, {
    method: 'post', path: '/admin/clients', operationId: 'createClient', summary: 'Register a client', tags, auth: write,
    description: 'A confidential client\'s secret is in the answer this once; only its hash is kept.',
    body: { json: createClientBody },
    responses: { 201: { description: 'the new client, with client_secret when confidential', schema: clientViewSchema.extend({ client_secret: z.string().optional() }) }, 403: refused, 409: conflict('duplicate_client') },
    examples: [{ summary: 'a resource service', body: { id: 'reports-api', type: 'confidential', grantTypes: ['client_credentials'], scopes: ['items:read'], canIntrospect: true } }],
  }, async (ctx, { body }) => {
    const { client, secret } = await createClientAs(deps, actorOf(ctx), body);
    ctx.status = 201;
    // The secret is shown this once; only its hash is kept.
    ctx.body = { ...clientView(client, await listClientSecrets(deps.db, client.id)), ...(secret !== undefined ? { client_secret: secret } : {}) };
  });

  defineRoute(router, {
    method: 'get', path: '/admin/clients/:id', operationId: 'getClient', summary: 'One client', tags, auth: read, params: id,
    responses: { 200: { description: 'the client', schema: clientViewSchema }, 404: notFoundResponse },
    examples: [{ summary: 'the demo SPA', params: { id: 'demo-spa' } }],
  }, async (ctx) => {
    const client = await findClient(deps.db, ctx.params.id!);
    if (!client) throw notFound();
    ctx.body = clientView(publicClient(client), await listClientSecrets(deps.db, client.id));
  });

  defineRoute(router, {
    method: 'patch', path: '/admin/clients/:id', operationId: 'updateClient', summary: 'Change a client', tags, auth: write, params: id,
    body: { json: updateClientBody },
    responses: { 200: { description: 'the changed client', schema: clientViewSchema }, 403: refused, 404: notFoundResponse, 409: conflict('managed_client: declared in CLIENTS_FILE') },
    examples: [{ summary: 'an unknown client', params: { id: 'no-such-client' }, body: { name: 'Renamed' } }],
  }, async (ctx, { body }) => {
    const client = await updateClientAs(deps, actorOf(ctx), ctx.params.id!, body);
    if (!client) throw notFound();
    ctx.body = clientView(client, await listClientSecrets(deps.db, client.id));
  });

  // The emergency replacement: the client's other secrets end at once.
  defineRoute(router, {
    method: 'post', path: '/admin/clients/:id/secret', operationId: 'replaceClientSecret', summary: 'Replace the secret: the others end at once', tags, auth: write, params: id,
    responses: { 200: { description: 'the new secret, this once', schema: z.object({ client_secret: z.string() }) }, 404: notFoundResponse, 409: conflict('managed_client, or a public client') },
    examples: [{ summary: 'an unknown client', params: { id: 'no-such-client' } }],
  }, async (ctx) => {
    ctx.body = { client_secret: (await rotateSecretAs(deps, actorOf(ctx), ctx.params.id!, 0)).secret };
  });

  // Rotation with overlap: a new secret, the others end keepOldFor from now (CLIENT_SECRET_OVERLAP).
  defineRoute(router, {
    method: 'post', path: '/admin/clients/:id/secrets', operationId: 'rotateClientSecret', summary: 'Add a secret; the others end keepOldFor from now', tags, auth: write, params: id,
    description: 'keepOldFor: seconds or a duration (7d, 12h); default CLIENT_SECRET_OVERLAP. The body may be left out.',
    body: { json: rotateSecretBody, optional: true },
    responses: { 201: { description: 'the new secret, this once', schema: rotationViewSchema }, 404: notFoundResponse, 409: conflict('too_many_secrets, managed_client, or a public client') },
    examples: [{ summary: 'an unknown client', params: { id: 'no-such-client' }, body: { keepOldFor: '7d' } }],
  }, async (ctx, { body }) => {
    const rotated = await rotateSecretAs(deps, actorOf(ctx), ctx.params.id!, body.keepOldFor ?? deps.config.clientSecretOverlapSec);
    ctx.status = 201;
    ctx.body = rotationView(ctx.params.id!, rotated);
  });

  defineRoute(router, {
    method: 'delete', path: '/admin/clients/:id/secrets/:secretId', operationId: 'removeClientSecret', summary: 'Remove one secret', tags, auth: write,
    params: { ...id, secretId: { description: 'the secret id' } },
    responses: { 204: noContent, 404: { description: 'no such client or secret', schema: apiErrorSchema }, 409: conflict('last_secret, managed_client') },
    examples: [{ summary: 'an unknown secret', params: { id: 'demo-api', secretId: 'no-such-secret' } }],
  }, async (ctx) => {
    if (!(await removeSecretAs(deps, actorOf(ctx), ctx.params.id!, ctx.params.secretId!))) throw new ApiError(404, 'not_found', 'no such secret');
    ctx.status = 204;
  });

  defineRoute(router, {
    method: 'delete', path: '/admin/clients/:id', operationId: 'deleteClient', summary: 'Delete a client', tags, auth: write, params: id,
    responses: { 204: noContent, 404: notFoundResponse, 409: conflict('managed_client: declared in CLIENTS_FILE') },
    examples: [{ summary: 'an unknown client', params: { id: 'no-such-client' } }],
  }, async (ctx) => {
    if (!(await deleteClientAs(deps, actorOf(ctx), ctx.params.id!))) throw notFound();
    ctx.status = 204;
  });

  return router;
}
