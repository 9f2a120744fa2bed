import type { Deps } from '../deps';
import { clientSettingsForAudit } from '../identity/client-audit';
import { removeClientSecret, rotateClientSecret, type RotatedSecret } from '../identity/client-secret-store';
import { createClient, deleteClient, findClient, publicClient, updateClient, type Client, type ClientChanges, type NewClient } from '../identity/clients';
import { IdentityError } from '../identity/errors';
import { hasScope } from '../identity/scopes';
import { revokeClientTokens } from '../identity/client-lifecycle';
import { audit, type Actor } from './audit';
import { sameSet } from '../sets';

type ClientDeps = Pick<Deps, 'db' | 'clock' | 'log' | 'events' | 'revocations' | 'config'>;

/**
 * The scope that may set a client's privileges: the settings that reach beyond the client's own
 * scopes. `admin` and `*` hold it, and so does `clients:*`.
 *   - the password grant: the client collects users' passwords;
 *   - audiences: the client may obtain tokens for other services (and this service's own API);
 *   - canIntrospect: the client may read the state and claims of any token;
 *   - CORS origins: they open every browser endpoint (token, account, admin) to that origin,
 *     not only this client's requests;
 *   - redirect URIs: users' authorization codes, and so tokens acting as them, are sent there
 *     (without consent, to any signed-in user who follows a link; with it, to everyone who once
 *     agreed, so changing them redirects what those users allowed).
 */
export const CLIENT_PRIVILEGE_SCOPE = 'clients:admin';

type Settings = Pick<Client, 'grantTypes' | 'audiences' | 'canIntrospect' | 'corsOrigins' | 'redirectUris'>;

/** The privileges a client with these settings holds (empty when none). */
export function privilegesOf(settings: Partial<Settings>): string[] {
  const held: string[] = [];
  if (settings.grantTypes?.includes('password')) held.push('the password grant');
  if ((settings.audiences ?? []).length > 0) held.push('audiences');
  if (settings.canIntrospect) held.push('introspection');
  if ((settings.corsOrigins ?? []).length > 0) held.push('CORS origins');
  if ((settings.redirectUris ?? []).length > 0) held.push('redirect URIs');
  return held;
}

// A client's allowed scopes are what it can obtain (for itself, with client_credentials): an
// admin may allow only scopes their own token holds, or clients:write would lead to admin.
function checkGrantable(actor: Actor, scopes: readonly string[] | undefined): void {
  const refused = (scopes ?? []).filter((scope) => !hasScope(actor.scopes, scope));
  if (refused.length > 0) throw new IdentityError('forbidden_grant', `cannot allow scopes you do not hold: ${refused.join(' ')}`);
}

function checkPrivileges(actor: Actor, privileges: readonly string[]): void {
  if (privileges.length > 0 && !hasScope(actor.scopes, CLIENT_PRIVILEGE_SCOPE)) {
    throw new IdentityError('forbidden_grant', `only a holder of ${CLIENT_PRIVILEGE_SCOPE} may set ${privileges.join(', ')}`);
  }
}

/**
 * Acting on an existing client (changing it, rotating its secret, deleting it) needs everything
 * the client holds: its scopes and, when it has any, its privileges. Else rotating its secret
 * would hand the actor its tokens. Unknown clients pass here and answer 404 after.
 */
async function checkTarget(deps: ClientDeps, actor: Actor, id: string): Promise<Client | undefined> {
  const found = await findClient(deps.db, id);
  if (!found) return undefined;
  const client = publicClient(found);
  const beyond = client.scopes.filter((scope) => !hasScope(actor.scopes, scope));
  if (beyond.length > 0) throw new IdentityError('forbidden_target', 'this client is allowed scopes your token does not hold');
  const privileges = privilegesOf(client);
  if (privileges.length > 0 && !hasScope(actor.scopes, CLIENT_PRIVILEGE_SCOPE)) {
    throw new IdentityError('forbidden_target', `this client holds privileges (${privileges.join(', ')}); only a holder of ${CLIENT_PRIVILEGE_SCOPE} may change it`);
  }
  return client;
}

/** What a change would newly give: privileged settings whose value changes. */
function changedPrivileges(current: Client, changes: ClientChanges): string[] {
  return privilegesOf({
    grantTypes: changes.grantTypes && changes.grantTypes.includes('password') !== current.grantTypes.includes('password') ? ['password'] : [],
    audiences: changes.audiences && !sameSet(changes.audiences, current.audiences) ? ['(changed)'] : [],
    canIntrospect: changes.canIntrospect !== undefined && changes.canIntrospect !== current.canIntrospect,
    corsOrigins: changes.corsOrigins && !sameSet(changes.corsOrigins, current.corsOrigins) ? ['(changed)'] : [],
    redirectUris: changes.redirectUris && !sameSet(changes.redirectUris, current.redirectUris) ? ['(changed)'] : [],
  });
}

/** Creates a client; a confidential one gets a generated secret, returned here once. */
export async function createClientAs(deps: ClientDeps, actor: Actor, input: Omit<NewClient, 'secret'>): Promise<{ client: Client; secret?: string }> {
  checkGrantable(actor, input.scopes);
  checkPrivileges(
    actor,
    privilegesOf({ grantTypes: input.grantTypes as Client['grantTypes'], audiences: input.audiences ?? [], canIntrospect: input.canIntrospect ?? false, corsOrigins: input.corsOrigins ?? [], redirectUris: input.redirectUris ?? [] }),
  );
  const created = await createClient(deps.db, input, new Date(deps.clock.now()));
  const { client } = created;
  audit(deps.events, 'client_created', actor, client.id, clientSettingsForAudit(client));
  return created;
}

export async function updateClientAs(deps: ClientDeps, actor: Actor, id: string, changes: ClientChanges): Promise<Client | undefined> {
  const current = await checkTarget(deps, actor, id);
  if (!current) return undefined;
  checkGrantable(actor, changes.scopes);
  checkPrivileges(actor, changedPrivileges(current, changes));
  const client = await updateClient(deps.db, id, changes, new Date(deps.clock.now()));
  if (client) audit(deps.events, 'client_updated', actor, id, changes);
  return client;
}

/**
 * A new secret; the client's others end `keepOldForSec` from now (0: at once, the emergency
 * replacement). Tokens already issued stay valid until they expire. Acting on a client's
 * secrets needs what acting on the client does (checkTarget): a secret is the client's tokens.
 */
export async function rotateSecretAs(deps: ClientDeps, actor: Actor, id: string, keepOldForSec: number): Promise<RotatedSecret> {
  if (!(await checkTarget(deps, actor, id))) throw new IdentityError('unknown_client', `no such client: ${id}`);
  const rotated = await rotateClientSecret(deps.db, id, { keepOldForSec }, new Date(deps.clock.now()));
  audit(deps.events, 'client_secret_rotated', actor, id, { secretId: rotated.id, oldSecretExpiresAt: rotated.oldSecretExpiresAt?.toISOString() ?? null });
  return rotated;
}

/** Ends one secret now (refused for the last one that works). False: no such secret. */
export async function removeSecretAs(deps: ClientDeps, actor: Actor, id: string, secretId: string): Promise<boolean> {
  if (!(await checkTarget(deps, actor, id))) throw new IdentityError('unknown_client', `no such client: ${id}`);
  const removed = await removeClientSecret(deps.db, id, secretId, new Date(deps.clock.now()));
  if (removed) audit(deps.events, 'client_secret_removed', actor, id, { secretId });
  return removed;
}

/** Deletes the client; every access token issued to it ends at once (its revocation epoch). */
export async function deleteClientAs(deps: ClientDeps, actor: Actor, id: string): Promise<boolean> {
  if (!(await checkTarget(deps, actor, id))) return false;
  // Under the row's lock, once the deletion is allowed: a clients file's client (409) keeps its tokens.
  const deleted = await deleteClient(deps.db, id, { beforeDelete: () => revokeClientTokens(deps, id) });
  if (deleted) audit(deps.events, 'client_deleted', actor, id);
  return deleted;
}
