import { Command } from 'commander';
import { parseDuration } from '../config/duration';
import { createClient, GRANT_TYPES, listClients, rotateClientSecret, type Client, type ClientType } from '../identity/clients';
import { parseScope } from '../identity/scopes';
import { CliError, emit, list, withDeps } from './context';

const describe = (client: Client): string =>
  [
    `${client.id}\t${client.type}\tgrants=${client.grantTypes.join(',')}\tscopes=${client.scopes.join(' ') || '-'}`,
    ...(client.redirectUris.length > 0 ? [`redirect_uris=${client.redirectUris.join(' ')}`] : []),
    ...(client.requireConsent ? ['consent'] : []),
    ...(client.canIntrospect ? ['introspect'] : []),
  ].join('\t');

/** A space-separated list of URIs (not commas: a URI may hold one). */
function uris(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter((uri) => uri !== '');
}

function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const parsed = parseDuration(text);
  if (parsed === undefined) throw new CliError(`${flag}: not a duration (seconds, or a number with s, m, h or d: 8h, 30d): ${text}`);
  return parsed;
}

function scopes(text: string | undefined, flag: string): string[] {
  if (text === undefined) return [];
  const parsed = parseScope(text);
  if (!parsed) throw new CliError(`${flag}: not a valid scope list: ${text}`);
  return parsed;
}

interface CreateOptions {
  id: string;
  type: string;
  grants: string;
  scopes: string;
  name?: string;
  secret?: string;
  defaultScopes?: string;
  audiences?: string;
  origins?: string;
  introspect?: boolean;
  redirectUris?: string;
  postLogoutRedirectUris?: string;
  requireConsent?: boolean;
  refreshTtl?: string;
  refreshIdleTtl?: string;
  refreshCookie?: boolean;
  json?: boolean;
}

export function clientCommand(): Command {
  const client = new Command('client').description('manage OAuth clients');

  client
    .command('create')
    .description('register a client; a generated secret is printed once')
    .requiredOption('--id <id>', 'client_id')
    .requiredOption('--type <type>', 'confidential or public')
    .requiredOption('--grants <grants>', `grant types, comma-separated: ${GRANT_TYPES.join(', ')}`)
    .requiredOption('--scopes <scopes>', 'allowed scopes, space-separated')
    .option('--name <name>', 'display name')
    .option('--secret <secret>', 'use this secret (at least 32 characters) instead of generating one')
    .option('--default-scopes <scopes>', 'scopes granted when a request names none')
    .option('--audiences <audiences>', 'allowed audiences (RFC 8707 resource values), comma-separated')
    .option('--origins <origins>', 'allowed CORS origins, comma-separated')
    .option('--introspect', 'may call the introspection endpoint')
    .option('--redirect-uris <uris>', 'where the authorization endpoint may send users back, space-separated (required with authorization_code)')
    .option('--post-logout-redirect-uris <uris>', 'where the logout endpoint may send users back, space-separated')
    .option('--require-consent', 'ask each user before the client first gets a scope (third-party clients)')
    .option('--refresh-ttl <duration>', "the client's own refresh-token lifetime (1m to 366d, e.g. 8h)")
    .option('--refresh-idle-ttl <duration>', "the client's own refresh idle lifetime (1m to 366d, at most --refresh-ttl)")
    .option('--refresh-cookie', 'send the refresh token in an HttpOnly cookie, not the response body (needs refresh_token)')
    .option('--json', 'machine-readable output')
    .action(async (options: CreateOptions) => {
      const input = {
        id: options.id,
        name: options.name,
        type: options.type as ClientType,
        secret: options.secret,
        grantTypes: list(options.grants),
        scopes: scopes(options.scopes, '--scopes'),
        defaultScopes: scopes(options.defaultScopes, '--default-scopes'),
        audiences: list(options.audiences ?? ''),
        corsOrigins: list(options.origins ?? ''),
        canIntrospect: options.introspect ?? false,
        redirectUris: uris(options.redirectUris),
        postLogoutRedirectUris: uris(options.postLogoutRedirectUris),
        requireConsent: options.requireConsent ?? false,
        refreshTokenTtlSec: seconds(options.refreshTtl, '--refresh-ttl') ?? null,
        refreshIdleTtlSec: seconds(options.refreshIdleTtl, '--refresh-idle-ttl') ?? null,
        refreshTokenInCookie: options.refreshCookie ?? false,
      };
      const { client: created, secret } = await withDeps((deps) => createClient(deps.db, input, new Date(deps.clock.now())));
      emit(options.json, { ...created, ...(secret ? { client_secret: secret } : {}) }, () => [
        `created client ${describe(created)}`,
        ...(secret ? [`client_secret: ${secret}`, '(shown once: store it now)'] : []),
      ]);
    });

  client
    .command('list')
    .description('list clients')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const clients = await withDeps((deps) => listClients(deps.db));
      emit(options.json, clients, () => (clients.length ? clients.map(describe) : ['(no clients)']));
    });

  client
    .command('rotate-secret <id>')
    .description('replace a confidential client\'s secret; the old one stops working at once')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { json?: boolean }) => {
      const secret = await withDeps((deps) => rotateClientSecret(deps.db, id, new Date(deps.clock.now())));
      emit(options.json, { id, client_secret: secret }, () => [`client_secret: ${secret}`, '(shown once: store it now)']);
    });

  return client;
}
