import type Router from '@koa/router';
import { changePasswordBody, updateMeBody } from '../../account/schemas';
import { myConsents, withdrawConsent } from '../../account/consents';
import { changePassword, currentUser, updateProfile } from '../../account/me';
import type { Deps } from '../../deps';
import { invalidTokenError } from '../../oauth/bearer-auth';
import { listSessions, revokeAllSessions, revokeSession } from '../../oauth/sessions';
import { ApiError } from '../api-error';
import type { AppState } from '../context';
import type { HotPaths } from '../hot-paths';
import { apiRouter } from './api-router';
import { passwordWork } from '../middleware/abort-signal';
import { callerOf, requireUser, thirdPartyAccountScope } from '../middleware/bearer-auth';
import { jsonBody } from '../validate';
import { consentView, userView } from '../../identity/views';

const notAUser = () => invalidTokenError('the token does not belong to a user who may sign in');


/** Self-service: any signed-in user, about themselves. */
export function accountRoutes(deps: Deps, hot: HotPaths): Router<AppState> {
  const router = apiRouter('/users/me', hot, deps.config.issuer);
  router.use(requireUser());
  router.use(thirdPartyAccountScope(hot.clients.find));

  // Fresh from the database on each call: a token's claims are not the profile.
  router.get('/', async (ctx) => {
    const user = await currentUser(deps, callerOf(ctx).claims.sub);
    if (!user) throw notAUser();
    ctx.body = userView(user);
  });

  router.patch('/', async (ctx) => {
    const changes = jsonBody(ctx, updateMeBody);
    const { sub } = callerOf(ctx).claims;
    if (!(await currentUser(deps, sub))) throw notAUser();
    ctx.body = userView(await updateProfile(deps, sub, changes));
  });

  router.post('/password', async (ctx) => {
    const body = jsonBody(ctx, changePasswordBody);
    const { sub, sid } = callerOf(ctx).claims;
    const user = await currentUser(deps, sub);
    if (!user) throw notAUser();
    if (body.keepSession && sid === undefined) throw new ApiError(400, 'invalid_request', 'this token belongs to no session to keep', { keepSession: 'the token has no session' });
    await changePassword(deps, user, body.currentPassword, body.newPassword, body.keepSession ? sid : undefined, passwordWork(ctx));
    ctx.status = 204;
  });

  router.get('/sessions', async (ctx) => {
    const { sub, sid } = callerOf(ctx).claims;
    ctx.body = (await listSessions(deps, sub)).map((session) => ({ ...session, current: session.id === sid }));
  });

  router.delete('/sessions/:id', async (ctx) => {
    const { sub } = callerOf(ctx).claims;
    if (!(await revokeSession(deps, sub, ctx.params.id!))) throw new ApiError(404, 'not_found', 'no such session');
    deps.events.emit('account.session_revoked', { actor: sub, target: sub, sessionId: ctx.params.id! });
    ctx.status = 204;
  });

  // Log out everywhere, this session included.
  router.delete('/sessions', async (ctx) => {
    const { sub } = callerOf(ctx).claims;
    const revoked = await revokeAllSessions(deps, sub);
    deps.events.emit('account.sessions_revoked', { actor: sub, target: sub, revoked });
    ctx.status = 204;
  });

  // The clients that asked for the user's consent, and what the user allowed each.
  router.get('/consents', async (ctx) => {
    ctx.body = (await myConsents(deps, callerOf(ctx).claims.sub)).map(consentView);
  });

  // Withdraws it and ends the user's sessions with that client; the next sign-in asks again.
  router.delete('/consents/:clientId', async (ctx) => {
    if (!(await withdrawConsent(deps, callerOf(ctx).claims.sub, ctx.params.clientId!))) throw new ApiError(404, 'not_found', 'no such consent');
    ctx.status = 204;
  });

  return router;
}
