import { authorizationCodeGrant } from './authorization-code';
import { clientCredentialsGrant } from './client-credentials';
import type { Grant } from './grant';
import { passwordGrant } from './password';
import { refreshTokenGrant } from './refresh-token';

/** Every grant the token endpoint serves, by grant_type. Adding a grant: one file, one line. */
export const GRANTS: ReadonlyMap<string, Grant> = new Map([authorizationCodeGrant, passwordGrant, refreshTokenGrant, clientCredentialsGrant].map((grant) => [grant.type, grant]));
