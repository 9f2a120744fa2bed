import { z } from 'zod';
import { issueAccessToken } from '../../tokens/access-token';
import { pickAudience } from '../audience';
import { OAuthError } from '../errors';
import { grantScope } from '../scope-policy';
import { tokenResponse, resourceParameter, scopeParameter, type Grant, type GrantDeps } from './grant';

/** RFC 6749 §4.4: a confidential client acting on its own behalf. No refresh token (§4.4.3). */
export const clientCredentialsGrant: Grant = {
  type: 'client_credentials',
  parameters: z.object({ grant_type: z.literal('client_credentials'), scope: scopeParameter.optional(), resource: resourceParameter.optional() }),
  async handle({ client, secretId, params, ip, requestId }, deps: Pick<GrantDeps, 'keyring' | 'clock' | 'config' | 'events'>) {
    if (client.type !== 'confidential') throw new OAuthError('unauthorized_client', 'public clients cannot use client_credentials');
    const scope = grantScope(params.get('scope'), client.defaultScopes, [client.scopes]);
    const audience = pickAudience(params.get('resource'), client, deps.config.defaultAudience);
    const issued = issueAccessToken(deps, { sub: client.id, clientId: client.id, scope, audience });
    deps.events.emit('token.issued', { grant: 'client_credentials', clientId: client.id, secretId, jti: issued.jti, scope: scope.join(' '), ip, requestId });
    return tokenResponse(issued, scope);
  },
};
