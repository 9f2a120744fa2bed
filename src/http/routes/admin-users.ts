import type Router from '@koa/router';
import type { Actor } from '../../admin/audit';
import { createUserBody, listUsersQuery, setPasswordBody, updateUserBody } from '../../admin/schemas';
import { createUserAs, deleteUserAs, findUser, revokeAllSessionsAs, revokeSessionAs, searchUsers, sessionsOf, setDisabledAs, setPasswordAs, updateUserAs } from '../../admin/users';
import type { Deps } from '../../deps';
import { canonicalUserId } from '../../identity/ids';
import { hasScope } from '../../identity/scopes';
import { subjectType } from '../../tokens/subject-type';
import { ApiError } from '../api-error';
import type { AppContext, AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { apiRouter } from './api-router';
import { passwordWork } from '../middleware/abort-signal';
import { callerOf, insufficientScope, requireScope } from '../middleware/bearer-auth';
import { jsonBody, queryParams } from '../validate';
import { userView } from '../../identity/views';

export function actorOf(ctx: AppContext): Actor {
  const { claims, scopes } = callerOf(ctx);
  return { sub: claims.sub, username: claims.username, clientId: claims.client_id, scopes, ip: ctx.ip, requestId: ctx.state.requestId };
}

const notFound = () => new ApiError(404, 'not_found', 'no such user');

/** /admin/users: scopes users:read, users:write, users:delete (admin grants all). */
export function adminUserRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = apiRouter('/admin/users', hot, deps.config.issuer);
  const read = requireScope('users:read');
  const write = requireScope('users:write');
  // A user id is a UUID, which PostgreSQL matches in any case but Redis keys (sessions,
  // revocation epochs) do not: one spelling from here on, or an upper-case id would find the
  // user and miss their sessions and tokens.
  router.param('id', (id, ctx, next) => {
    ctx.params.id = canonicalUserId(id);
    return next();
  });

  router.get('/', read, async (ctx) => {
    const query = queryParams(ctx, listUsersQuery);
    const users = await searchUsers(deps, query);
    ctx.body = { users: users.map(userView), limit: query.limit, offset: query.offset, ...(users.length === query.limit ? { nextOffset: query.offset + query.limit } : {}) };
  });

  router.post('/', write, async (ctx) => {
    const body = jsonBody(ctx, createUserBody);
    ctx.status = 201;
    ctx.body = userView(await createUserAs(deps, actorOf(ctx), body, passwordWork(ctx)));
  });

  // The seed's ownership rule: users:read reads anyone, users:read:own only oneself.
  router.get('/:id', async (ctx) => {
    const { scopes, claims } = callerOf(ctx);
    const own = subjectType(claims) === 'user' && claims.sub === ctx.params.id && hasScope(scopes, 'users:read:own');
    if (!own && !hasScope(scopes, 'users:read')) throw insufficientScope(['users:read', 'users:read:own']);
    const user = await findUser(deps, ctx.params.id!);
    if (!user) throw notFound();
    ctx.body = userView(user);
  });

  router.patch('/:id', write, async (ctx) => {
    const body = jsonBody(ctx, updateUserBody);
    ctx.body = userView(await updateUserAs(deps, actorOf(ctx), ctx.params.id!, body));
  });

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    router.post(`/:id/${action}`, write, async (ctx) => {
      ctx.body = userView(await setDisabledAs(deps, actorOf(ctx), ctx.params.id!, disabled));
    });
  }

  router.post('/:id/password', write, async (ctx) => {
    const { password } = jsonBody(ctx, setPasswordBody);
    await setPasswordAs(deps, actorOf(ctx), ctx.params.id!, password, passwordWork(ctx));
    ctx.status = 204;
  });

  router.delete('/:id', requireScope('users:delete'), async (ctx) => {
    await deleteUserAs(deps, actorOf(ctx), ctx.params.id!);
    ctx.status = 204;
  });

  router.get('/:id/sessions', read, async (ctx) => {
    if (!(await findUser(deps, ctx.params.id!))) throw notFound();
    ctx.body = await sessionsOf(deps, ctx.params.id!);
  });

  router.delete('/:id/sessions/:sessionId', write, async (ctx) => {
    if (!(await revokeSessionAs(deps, actorOf(ctx), ctx.params.id!, ctx.params.sessionId!))) throw new ApiError(404, 'not_found', 'no such session');
    ctx.status = 204;
  });

  router.delete('/:id/sessions', write, async (ctx) => {
    if (!(await findUser(deps, ctx.params.id!))) throw notFound();
    await revokeAllSessionsAs(deps, actorOf(ctx), ctx.params.id!);
    ctx.status = 204;
  });

  return router;
}
