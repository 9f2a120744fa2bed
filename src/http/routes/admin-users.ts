import type Router from '@koa/router';
import type { Actor } from '../../admin/audit';
import { createUserBody, listUsersQuery, setPasswordBody, updateUserBody } from '../../admin/schemas';
import { createUserAs, deleteUserAs, findUser, revokeAllSessionsAs, revokeSessionAs, searchUsers, sessionsOf, setDisabledAs, setPasswordAs, updateUserAs } from '../../admin/users';
import type { Deps } from '../../deps';
import { canonicalUserId } from '../../identity/ids';
import { hasScope } from '../../identity/scopes';
import { subjectType } from '../../tokens/subject-type';
import { ApiError, apiErrorSchema } from '../api-error';
import type { AppContext, AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { apiRouter } from './api-router';
import { auditRefusals } from '../middleware/audit-refusals';
import { passwordWork } from '../middleware/abort-signal';
import { callerOf, insufficientScope } from '../middleware/bearer-auth';
import { sessionViewSchema, userView, userViewSchema } from '../../identity/views';
import { z } from 'zod';
import { defineRoute } from '../openapi/route';

export function actorOf(ctx: AppContext): Actor {
  const { claims, scopes } = callerOf(ctx);
  return { sub: claims.sub, username: claims.username, clientId: claims.client_id, scopes, ip: ctx.ip, requestId: ctx.state.requestId };
}

const notFound = () => new ApiError(404, 'not_found', 'no such user');

/** /admin/users: scopes users:read, users:write, users:delete (admin grants all). */
export function adminUserRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = apiRouter('/admin/users', hot, deps.config.issuer);
  router.use(auditRefusals(deps.events));
  // A user id is a UUID, which PostgreSQL matches in any case but Redis keys (sessions,
  // revocation epochs) do not: one spelling from here on, or an upper-case id would find the
  // user and miss their sessions and tokens.
  router.param('id', (id, ctx, next) => {
    ctx.params.id = canonicalUserId(id);
    return next();
  });

  const tags = ['Admin: users'];
  const scopes = (...anyOf: string[]) => ({ kind: 'bearer', scopes: anyOf }) as const;
  const id = { id: { description: 'the user id (a UUID, any case)', schema: z.uuid() } };
  const noContent = { description: 'done' };
  const notFoundResponse = { description: 'no such user', schema: apiErrorSchema };
  const busy = { 429: { description: 'too many password hashes in progress from this address', schema: apiErrorSchema }, 503: { description: 'too many password hashes in progress', schema: apiErrorSchema } };
  const unknownUser = '00000000-0000-4000-8000-000000000000';

  defineRoute(router, {
    method: 'get', path: '/admin/users', operationId: 'listUsers', summary: 'List users by username prefix', tags, auth: scopes('users:read'),
    query: { schema: listUsersQuery },
    responses: { 200: { description: 'a page of users; nextOffset when there may be more', schema: z.object({ users: z.array(userViewSchema), limit: z.number().int(), offset: z.number().int(), nextOffset: z.number().int().optional() }) } },
    examples: [{ summary: 'users whose name starts with a', query: { prefix: 'a', limit: '10' } }],
  }, async (ctx, { query }) => {
    const users = await searchUsers(deps, query);
    ctx.body = { users: users.map(userView), limit: query.limit, offset: query.offset, ...(users.length === query.limit ? { nextOffset: query.offset + query.limit } : {}) };
  });

  defineRoute(router, {
    method: 'post', path: '/admin/users', operationId: 'createUser', summary: 'Create a user', tags, auth: scopes('users:write'),
    body: { json: createUserBody },
    responses: { 201: { description: 'the new user', schema: userViewSchema }, 409: { description: 'duplicate_username', schema: apiErrorSchema }, ...busy },
    examples: [{ summary: 'carol', body: { username: 'carol', password: 'carol-long-password', email: 'carol@example.com', scopes: ['items:read'] } }],
  }, async (ctx, { body }) => {
    ctx.status = 201;
    ctx.body = userView(await createUserAs(deps, actorOf(ctx), body, passwordWork(ctx)));
  });

  // The seed's ownership rule: users:read reads anyone, users:read:own only oneself.
  defineRoute(router, {
    method: 'get', path: '/admin/users/:id', operationId: 'getUser', summary: 'One user', tags, params: id,
    description: 'users:read reads anyone; users:read:own only the caller.',
    auth: { kind: 'bearer', scopes: ['users:read', 'users:read:own'], checkedBy: 'handler' },
    responses: { 200: { description: 'the user', schema: userViewSchema }, 404: notFoundResponse },
    examples: [{ summary: 'an unknown user', params: { id: unknownUser } }],
  }, async (ctx) => {
    const { scopes: held, claims } = callerOf(ctx);
    const own = subjectType(claims) === 'user' && claims.sub === ctx.params.id && hasScope(held, 'users:read:own');
    if (!own && !hasScope(held, 'users:read')) throw insufficientScope(['users:read', 'users:read:own']);
    const user = await findUser(deps, ctx.params.id!);
    if (!user) throw notFound();
    ctx.body = userView(user);
  });

  defineRoute(router, {
    method: 'patch', path: '/admin/users/:id', operationId: 'updateUser', summary: 'Change a user\'s profile, roles or scopes', tags, auth: scopes('users:write'), params: id,
    body: { json: updateUserBody },
    responses: { 200: { description: 'the changed user', schema: userViewSchema }, 404: notFoundResponse },
    examples: [{ summary: 'an unknown user', params: { id: unknownUser }, body: { fullName: 'Someone Else' } }],
  }, async (ctx, { body }) => {
    ctx.body = userView(await updateUserAs(deps, actorOf(ctx), ctx.params.id!, body));
  });

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    defineRoute(router, {
      method: 'post', path: `/admin/users/:id/${action}`, operationId: `${action}User`, summary: disabled ? 'Disable a user: ends their sessions and tokens' : 'Enable a user', tags, auth: scopes('users:write'), params: id,
      responses: { 200: { description: 'the user', schema: userViewSchema }, 404: notFoundResponse },
      examples: [{ summary: 'an unknown user', params: { id: unknownUser } }],
    }, async (ctx) => {
      ctx.body = userView(await setDisabledAs(deps, actorOf(ctx), ctx.params.id!, disabled));
    });
  }

  defineRoute(router, {
    method: 'post', path: '/admin/users/:id/password', operationId: 'setUserPassword', summary: 'Set a user\'s password: ends their sessions', tags, auth: scopes('users:write'), params: id,
    body: { json: setPasswordBody },
    responses: { 204: noContent, 404: notFoundResponse, ...busy },
    examples: [{ summary: 'an unknown user', params: { id: unknownUser }, body: { password: 'a-new-long-password' } }],
  }, async (ctx, { body }) => {
    await setPasswordAs(deps, actorOf(ctx), ctx.params.id!, body.password, passwordWork(ctx));
    ctx.status = 204;
  });

  defineRoute(router, {
    method: 'delete', path: '/admin/users/:id', operationId: 'deleteUser', summary: 'Delete a user', tags, auth: scopes('users:delete'), params: id,
    responses: { 204: noContent, 404: notFoundResponse },
    examples: [{ summary: 'an unknown user', params: { id: unknownUser } }],
  }, async (ctx) => {
    await deleteUserAs(deps, actorOf(ctx), ctx.params.id!);
    ctx.status = 204;
  });

  defineRoute(router, {
    method: 'get', path: '/admin/users/:id/sessions', operationId: 'listUserSessions', summary: 'A user\'s sessions', tags, auth: scopes('users:read'), params: id,
    responses: { 200: { description: 'the live sessions', schema: z.array(sessionViewSchema) }, 404: notFoundResponse },
    examples: [{ summary: 'an unknown user', params: { id: unknownUser } }],
  }, async (ctx) => {
    if (!(await findUser(deps, ctx.params.id!))) throw notFound();
    ctx.body = await sessionsOf(deps, ctx.params.id!);
  });

  defineRoute(router, {
    method: 'delete', path: '/admin/users/:id/sessions/:sessionId', operationId: 'revokeUserSession', summary: 'End one of a user\'s sessions', tags, auth: scopes('users:write'),
    params: { ...id, sessionId: { description: 'the session id' } },
    responses: { 204: noContent, 404: { description: 'no such user or session', schema: apiErrorSchema } },
    examples: [{ summary: 'an unknown user', params: { id: unknownUser, sessionId: 'no-such-session' } }],
  }, async (ctx) => {
    if (!(await revokeSessionAs(deps, actorOf(ctx), ctx.params.id!, ctx.params.sessionId!))) throw new ApiError(404, 'not_found', 'no such session');
    ctx.status = 204;
  });

  defineRoute(router, {
    method: 'delete', path: '/admin/users/:id/sessions', operationId: 'revokeUserSessions', summary: 'End all of a user\'s sessions', tags, auth: scopes('users:write'), params: id,
    responses: { 204: noContent, 404: notFoundResponse },
    examples: [{ summary: 'an unknown user', params: { id: unknownUser } }],
  }, async (ctx) => {
    if (!(await findUser(deps, ctx.params.id!))) throw notFound();
    await revokeAllSessionsAs(deps, actorOf(ctx), ctx.params.id!);
    ctx.status = 204;
  });

  return router;
}
