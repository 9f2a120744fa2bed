import { Command } from 'commander';
import { parseDuration } from '../config/duration';
import { clientSettingsForAudit } from '../identity/client-audit';
import { listClientSecrets, MAX_SECRET_OVERLAP_SEC, secretsByClient, type ClientSecretInfo } from '../identity/client-secret-records';
import { removeClientSecret, rotateClientSecret } from '../identity/client-secret-store';
import { createClient, deleteClient, findClient, GRANT_TYPES, listClients, publicClient, type Client, type ClientType } from '../identity/clients';
import { parseScope } from '../identity/scopes';
import { rotationView, secretView } from '../identity/views';
import { revokeClientTokens } from '../identity/client-lifecycle';
import { auditCli } from './audit';
import { CliError, emit, list, requireYes, withDeps } from './context';

const describe = (client: Client): string =>
  [
    `${client.id}\t${client.type}\tgrants=${client.grantTypes.join(',')}\tscopes=${client.scopes.join(' ') || '-'}`,
    ...(client.redirectUris.length > 0 ? [`redirect_uris=${client.redirectUris.join(' ')}`] : []),
    ...(client.requireConsent ? ['consent'] : []),
    ...(client.canIntrospect ? ['introspect'] : []),
  ].join('\t');

const time = (at: Date | null, none: string): string => (at === null ? none : at.toISOString());

/** One line per secret, under its client: an operator sees which one is still used before removing it. */
const describeSecrets = (secrets: readonly ClientSecretInfo[]): string[] =>
  secrets.map((secret) => `  secret ${secret.id}	created=${time(secret.createdAt, '-')}	not_after=${time(secret.notAfter, 'never')}	last_used=${time(secret.lastUsedAt, 'never')}`);

/** A client for --json: its settings and its secrets' ids and times, never a secret or a hash. */
const clientJson = (client: Client, secrets: readonly ClientSecretInfo[]) => ({ ...client, secrets: secrets.map(secretView) });

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
      const { created, secret, secrets } = await withDeps(async (deps) => {
        const { client: made, secret: generated } = await createClient(deps.db, input, new Date(deps.clock.now()));
        auditCli(deps, 'client_created', made.id, clientSettingsForAudit(made));
        return { created: made, secret: generated, secrets: await listClientSecrets(deps.db, made.id) };
      });
      emit(options.json, { ...clientJson(created, secrets), ...(secret ? { client_secret: secret } : {}) }, () => [
        `created client ${describe(created)}`,
        ...(secret ? [`client_secret: ${secret}`, '(shown once: store it now)'] : []),
      ]);
    });

  client
    .command('list')
    .description('list clients')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const { clients, secrets } = await withDeps(async (deps) => ({ clients: await listClients(deps.db), secrets: await secretsByClient(deps.db) }));
      const secretsOf = (client: Client) => secrets.get(client.id) ?? [];
      emit(
        options.json,
        clients.map((each) => clientJson(each, secretsOf(each))),
        () => (clients.length ? clients.flatMap((each) => [describe(each), ...describeSecrets(secretsOf(each))]) : ['(no clients)']),
      );
    });

  client
    .command('show <id>')
    .description("a client's settings and its secrets: id, created, end (not_after), last use")
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { json?: boolean }) => {
      const shown = await withDeps(async (deps) => {
        const found = await findClient(deps.db, id);
        return found && { client: publicClient(found), secrets: await listClientSecrets(deps.db, id) };
      });
      if (!shown) throw new CliError(`no such client: ${id}`);
      emit(options.json, clientJson(shown.client, shown.secrets), () => [describe(shown.client), ...describeSecrets(shown.secrets)]);
    });

  client
    .command('rotate-secret <id>')
    .description("add a new secret to a confidential client (printed once); its previous one keeps working for --keep-old-for")
    .option('--keep-old-for <duration>', 'how long the previous secret keeps working (0: it stops now); default CLIENT_SECRET_OVERLAP (7d)')
    .option('--json', 'machine-readable output: {"clientId","secretId","secret","oldSecretExpiresAt"}')
    .action(async (id: string, options: { keepOldFor?: string; json?: boolean }) => {
      const keepOldFor = seconds(options.keepOldFor, '--keep-old-for');
      if (keepOldFor !== undefined && keepOldFor > MAX_SECRET_OVERLAP_SEC) throw new CliError(`--keep-old-for: at most 366d: ${options.keepOldFor}`);
      // A clients file's client is refused in the change itself (identity/client-manager.ts).
      const rotated = await withDeps(async (deps) => {
        const made = await rotateClientSecret(deps.db, id, { keepOldForSec: keepOldFor ?? deps.config.clientSecretOverlapSec }, new Date(deps.clock.now()));
        auditCli(deps, 'client_secret_rotated', id, { secretId: made.id, oldSecretExpiresAt: made.oldSecretExpiresAt?.toISOString() ?? null });
        return made;
      });
      emit(options.json, rotationView(id, rotated), () => [
        `client_secret: ${rotated.secret}`,
        '(shown once: store it now)',
        `secret id: ${rotated.id}`,
        rotated.oldSecretExpiresAt === null
          ? 'no previous secret was working'
          : `the previous secret works until ${rotated.oldSecretExpiresAt.toISOString()} (on instances that cached it, up to CLIENT_CACHE_TTL longer)`,
      ]);
    });

  client
    .command('remove-secret <id> <secretId>')
    .description('end one of a client\'s secrets now (not its last working one: rotate first)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, secretId: string, options: { json?: boolean }) => {
      const removed = await withDeps(async (deps) => {
        const done = await removeClientSecret(deps.db, id, secretId, new Date(deps.clock.now()));
        if (done) auditCli(deps, 'client_secret_removed', id, { secretId });
        return done;
      });
      if (!removed) throw new CliError(`client ${id} has no secret ${secretId}`);
      emit(options.json, { clientId: id, secretId, removed: true }, () => [`removed secret ${secretId} of client ${id}`]);
    });

  client
    .command('delete <id>')
    .description("delete a client: every access token issued to it ends at once (needs --yes; a clients file's client is refused)")
    .option('--yes', 'confirm the deletion')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { yes?: boolean; json?: boolean }) => {
      requireYes(options, `client delete ${id} deletes the client and ends its tokens`);
      // As the admin API deletes (admin/clients.ts): the tokens end under the row's lock, once the
      // deletion is allowed; a client a clients file manages is refused and keeps its tokens.
      const deleted = await withDeps(
        async (deps) => {
          const done = await deleteClient(deps.db, id, { beforeDelete: () => revokeClientTokens(deps, id) });
          if (done) auditCli(deps, 'client_deleted', id);
          return done;
        },
        { revokes: true },
      );
      if (!deleted) throw new CliError(`no such client: ${id}`, 'unknown_client');
      emit(options.json, { id, deleted: true }, () => [`deleted client ${id}`]);
    });

  return client;
}
