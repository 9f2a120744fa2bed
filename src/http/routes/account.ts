import type Router from '@koa/router';
import { changePasswordBody, updateMeBody } from '../../account/schemas';
import { myConsents, withdrawConsent } from '../../account/consents';
import { changePassword, currentUser, updateProfile } from '../../account/me';
import type { Deps } from '../../deps';
import { invalidTokenError } from '../../oauth/bearer-auth';
import { listSessions, revokeAllSessions, revokeSession } from '../../oauth/sessions';
import { ApiError, apiErrorSchema } from '../api-error';
import { originOf, type AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { apiRouter } from './api-router';
import { passwordWork } from '../middleware/abort-signal';
import { callerOf, requireUser, thirdPartyAccountScope } from '../middleware/bearer-auth';
import { consentView, consentViewSchema, sessionViewSchema, userView, userViewSchema } from '../../identity/views';
import { z } from 'zod';
import { defineRoute } from '../openapi/route';

const notAUser = () => invalidTokenError('the token does not belong to a user who may sign in');


/** Self-service: any signed-in user, about themselves. */
export function accountRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = apiRouter('/users/me', hot, deps.config.issuer);
  router.use(requireUser());
  router.use(thirdPartyAccountScope(hot.clients.find));

  const user = { kind: 'bearer' } as const;
  const tags = ['Account'];
  const noContent = { 204: { description: 'done' } };

  // Fresh from the database on each call: a token's claims are not the profile.
  defineRoute(router, {
    method: 'get', path: '/users/me', operationId: 'getMe', summary: 'The signed-in user\'s profile', tags, auth: user,
    description: 'Third-party clients need users:read:own.',
    responses: { 200: { description: 'the profile', schema: userViewSchema } },
    examples: [{ summary: 'alice\'s profile' }],
  }, async (ctx) => {
    const found = await currentUser(deps, callerOf(ctx).claims.sub);
    if (!found) throw notAUser();
    ctx.body = userView(found);
  });

  defineRoute(router, {
    method: 'patch', path: '/users/me', operationId: 'updateMe', summary: 'Change the profile (email, fullName)', tags, auth: user,
    description: 'Third-party clients need users:write:own. null clears a field.',
    body: { json: updateMeBody },
    responses: { 200: { description: 'the changed profile', schema: userViewSchema } },
    examples: [{ summary: 'a new name', body: { fullName: 'Alice Liddell' } }],
  }, async (ctx, { body }) => {
    const { sub } = callerOf(ctx).claims;
    if (!(await currentUser(deps, sub))) throw notAUser();
    ctx.body = userView(await updateProfile(deps, sub, body, originOf(ctx)));
  });

  defineRoute(router, {
    method: 'post', path: '/users/me/password', operationId: 'changeMyPassword', summary: 'Change the password', tags, auth: user,
    description: 'Ends every session of the user, except the current one with keepSession.',
    body: { json: changePasswordBody },
    responses: { ...noContent, 429: { description: 'too many password changes in progress from this address', schema: apiErrorSchema }, 503: { description: 'too many password hashes in progress', schema: apiErrorSchema } },
    examples: [{ summary: 'a wrong current password', body: { currentPassword: 'not-the-password', newPassword: 'a-new-long-password' } }],
  }, async (ctx, { body }) => {
    const { sub, sid } = callerOf(ctx).claims;
    const found = await currentUser(deps, sub);
    if (!found) throw notAUser();
    if (body.keepSession && sid === undefined) throw new ApiError(400, 'invalid_request', 'this token belongs to no session to keep', { keepSession: 'the token has no session' });
    await changePassword(deps, found, body.currentPassword, body.newPassword, body.keepSession ? sid : undefined, passwordWork(ctx), originOf(ctx));
    ctx.status = 204;
  });

  defineRoute(router, {
    method: 'get', path: '/users/me/sessions', operationId: 'listMySessions', summary: 'The user\'s sign-ins (refresh-token families)', tags, auth: user,
    responses: { 200: { description: 'the live sessions; current marks the token\'s own', schema: z.array(sessionViewSchema.extend({ current: z.boolean() })) } },
    examples: [{ summary: 'alice\'s sessions' }],
  }, async (ctx) => {
    const { sub, sid } = callerOf(ctx).claims;
    ctx.body = (await listSessions(deps, sub)).map((session) => ({ ...session, current: session.id === sid }));
  });

  defineRoute(router, {
    method: 'delete', path: '/users/me/sessions/:id', operationId: 'revokeMySession', summary: 'End one session', tags, auth: user,
    params: { id: { description: 'the session id' } },
    responses: { ...noContent, 404: { description: 'no such session', schema: apiErrorSchema } },
    examples: [{ summary: 'an unknown session', params: { id: 'no-such-session' } }],
  }, async (ctx) => {
    const { sub } = callerOf(ctx).claims;
    if (!(await revokeSession(deps, sub, ctx.params.id!))) throw new ApiError(404, 'not_found', 'no such session');
    deps.events.emit('account.session_revoked', { actor: sub, target: sub, sessionId: ctx.params.id!, ...originOf(ctx) });
    ctx.status = 204;
  });

  // Log out everywhere, this session included.
  defineRoute(router, {
    method: 'delete', path: '/users/me/sessions', operationId: 'revokeMySessions', summary: 'Log out everywhere, this session included', tags, auth: user,
    responses: noContent,
  }, async (ctx) => {
    const { sub } = callerOf(ctx).claims;
    const revoked = await revokeAllSessions(deps, sub);
    deps.events.emit('account.sessions_revoked', { actor: sub, target: sub, revoked, ...originOf(ctx) });
    ctx.status = 204;
  });

  // The clients that asked for the user's consent, and what the user allowed each.
  defineRoute(router, {
    method: 'get', path: '/users/me/consents', operationId: 'listMyConsents', summary: 'The clients the user allowed', tags, auth: user,
    responses: { 200: { description: 'the consents', schema: z.array(consentViewSchema) } },
    examples: [{ summary: 'alice\'s consents' }],
  }, async (ctx) => {
    ctx.body = (await myConsents(deps, callerOf(ctx).claims.sub)).map(consentView);
  });

  // Withdraws it and ends the user's sessions with that client; the next sign-in asks again.
  defineRoute(router, {
    method: 'delete', path: '/users/me/consents/:clientId', operationId: 'withdrawMyConsent', summary: 'Withdraw a consent and end that client\'s sessions', tags, auth: user,
    params: { clientId: { description: 'the client' } },
    responses: { ...noContent, 404: { description: 'no such consent', schema: apiErrorSchema } },
    examples: [{ summary: 'a client never allowed', params: { clientId: 'demo-api' } }],
  }, async (ctx) => {
    if (!(await withdrawConsent(deps, callerOf(ctx).claims.sub, ctx.params.clientId!, originOf(ctx)))) throw new ApiError(404, 'not_found', 'no such consent');
    ctx.status = 204;
  });

  return router;
}
