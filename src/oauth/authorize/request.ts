import type { ClientWithSecret } from '../../identity/clients';
import { isWellFormedText } from '../../text-input';
import type { ClientLookup } from '../client-auth';
import { OAuthError } from '../errors';
import { grantScope } from '../scope-policy';
import { pickAudience } from '../audience';

/**
 * The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707), as
 * they arrived: each name with every value it was given, so a repeat can be refused (§3.1).
 */
export type RawParams = ReadonlyMap<string, readonly string[]>;

/** OpenID Connect Core §3.1.2.1 prompt values this server acts on (select_account is accepted and means nothing here). */
export type PromptValue = 'login' | 'consent' | 'none';
export type Prompt = ReadonlySet<PromptValue>;

/** A checked authorization request: the client and redirect URI are trusted from here on. */
export interface AuthorizationRequest {
  readonly client: ClientWithSecret;
  readonly redirectUri: string;
  readonly state: string | undefined;
  /** The `scope` parameter, checked against the client's scopes; the user's narrow it later (flow.ts). */
  readonly requestedScope: string | undefined;
  readonly audience: string;
  readonly codeChallenge: string;
  readonly prompt: Prompt;
  readonly loginHint: string | undefined;
  /** The request as a query string, to carry through the login and consent forms. */
  readonly query: string;
}

/**
 * Where an error may be sent: back to the app, once client_id and redirect_uri are proven
 * (RFC 6749 §4.1.2.1), with the app's state.
 */
export interface ErrorTarget {
  readonly redirectUri: string;
  readonly state: string | undefined;
}

/**
 * client_id or redirect_uri is missing, unknown or does not match: RFC 6749 §4.1.2.1 says the
 * user is told and must not be redirected (an open redirector otherwise). Shown as a 400 page.
 */
export class UnsafeRedirectError extends Error {
  constructor(readonly description: string) {
    super(description);
    this.name = 'UnsafeRedirectError';
  }
}

/** An error that goes back to the app at `target` (its redirect URI) rather than to the user. */
export class RedirectableError extends Error {
  constructor(
    readonly error: OAuthError,
    readonly target: ErrorTarget,
  ) {
    super(error.message);
    this.name = 'RedirectableError';
  }
}

const MAX_VALUE = 2048;
// RFC 7636 §4.2: BASE64URL(SHA-256(verifier)) is 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Every name with its values, from a query string (values are checked when read: singleParam). */
export function rawParams(query: string): RawParams {
  const params = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(query)) {
    const values = params.get(name) ?? [];
    values.push(value);
    params.set(name, values);
  }
  return params;
}

/** A parsed form (already one value per name) as RawParams. */
export function formRawParams(form: ReadonlyMap<string, string>): RawParams {
  return new Map([...form].map(([name, value]) => [name, [value]]));
}

/**
 * The one value of `name`, undefined when absent or empty (RFC 6749 §3.1); a repeat, a NUL or
 * broken text, or an oversized value throws `fail` (the value itself is never echoed).
 */
export function singleParam(params: RawParams, name: string, fail: (description: string) => Error): string | undefined {
  const values = params.get(name);
  if (values === undefined) return undefined;
  if (values.length > 1) throw fail(`parameter ${name} is repeated`);
  const [value] = values;
  if (!isWellFormedText(value!) || !isWellFormedText(name)) throw fail(`parameter ${name} must not contain NUL or unpaired surrogate characters`);
  if (value!.length > MAX_VALUE) throw fail(`parameter ${name} is longer than ${MAX_VALUE} characters`);
  return value === '' ? undefined : value;
}

/**
 * The client and its redirect URI, checked before anything may be redirected: the URI must be
 * one the client registered, character for character (RFC 9700 §4.1.3: exact string matching,
 * no wildcards, prefixes or normalisation).
 */
export async function checkRedirect(params: RawParams, findClient: ClientLookup): Promise<{ client: ClientWithSecret; target: ErrorTarget }> {
  const unsafe = (description: string) => new UnsafeRedirectError(description);
  const clientId = singleParam(params, 'client_id', unsafe);
  if (clientId === undefined) throw unsafe('the request names no client (client_id is missing)');
  const redirectUri = singleParam(params, 'redirect_uri', unsafe);
  const client = await findClient(clientId);
  if (!client || !client.grantTypes.includes('authorization_code')) throw unsafe('the client is unknown or may not sign users in here');
  // RFC 6749 §3.1.2.3 lets a client with one registered URI leave it out; RFC 9700 and OAuth 2.1
  // ask for it, and it is the token request's binding (§4.1.3), so it is required.
  if (redirectUri === undefined) throw unsafe('the request names no redirect_uri');
  if (!client.redirectUris.includes(redirectUri)) throw unsafe('the redirect_uri is not registered for this client');
  let state: string | undefined;
  try {
    state = singleParam(params, 'state', (description) => new OAuthError('invalid_request', description));
  } catch (error) {
    // A repeated or broken state cannot be echoed; the error still goes to the app.
    throw new RedirectableError(error as OAuthError, { redirectUri, state: undefined });
  }
  return { client, target: { redirectUri, state } };
}

/**
 * RFC 6749 §4.1.1 with the profile this server enforces: response_type=code only, PKCE with S256
 * for every client (RFC 9700 §2.1.1), the scope within the client's, one resource the client
 * may name (RFC 8707). Errors here go back to the app.
 */
export async function parseAuthorizationRequest(params: RawParams, findClient: ClientLookup, defaultAudience: string): Promise<AuthorizationRequest> {
  const { client, target } = await checkRedirect(params, findClient);
  try {
    const invalid = (description: string) => new OAuthError('invalid_request', description);
    const get = (name: string) => singleParam(params, name, invalid);
    // OpenID Connect Core §6: request objects are not supported.
    if (params.has('request')) throw new OAuthError('request_not_supported', 'request objects are not supported');
    if (params.has('request_uri')) throw new OAuthError('request_uri_not_supported', 'request_uri is not supported');
    const responseType = get('response_type');
    if (responseType === undefined) throw invalid('missing parameter: response_type');
    if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
    const responseMode = get('response_mode');
    if (responseMode !== undefined && responseMode !== 'query') throw invalid('only response_mode=query is supported');
    const codeChallenge = get('code_challenge');
    if (codeChallenge === undefined) throw invalid('PKCE is required: code_challenge is missing (RFC 7636)');
    const method = get('code_challenge_method');
    if (method !== 'S256') throw invalid('code_challenge_method must be S256 (plain is not accepted)');
    if (!S256_CHALLENGE.test(codeChallenge)) throw invalid('code_challenge must be 43 base64url characters (RFC 7636 §4.2)');
    const prompt = parsePrompt(get('prompt'));
    const requestedScope = get('scope');
    // Beyond the client's scopes is invalid_scope before anyone signs in; the user's own scopes
    // are applied once they have (flow.ts).
    grantScope(requestedScope, client.defaultScopes, [client.scopes]);
    const resources = params.get('resource');
    if (resources !== undefined && resources.length > 1) throw new OAuthError('invalid_target', 'one resource per authorization request is supported');
    const audience = pickAudience(get('resource'), client, defaultAudience);
    const loginHint = get('login_hint');
    return {
      client,
      redirectUri: target.redirectUri,
      state: target.state,
      requestedScope,
      audience,
      codeChallenge,
      prompt,
      loginHint: loginHint !== undefined && loginHint.length <= 256 ? loginHint : undefined,
      query: new URLSearchParams([...params].flatMap(([name, values]) => values.map((value): [string, string] => [name, value]))).toString(),
    };
  } catch (error) {
    if (error instanceof OAuthError) throw new RedirectableError(error, target);
    throw error;
  }
}

// OpenID Connect Core §3.1.2.1: a space-separated list; `none` stands alone.
function parsePrompt(value: string | undefined): Prompt {
  const values = new Set((value ?? '').split(' ').filter((item) => item !== ''));
  if (values.has('none') && values.size > 1) throw new OAuthError('invalid_request', 'prompt=none cannot be combined with another value');
  for (const item of values) if (!['none', 'login', 'consent', 'select_account'].includes(item)) throw new OAuthError('invalid_request', `unsupported prompt value: ${item.slice(0, 40)}`);
  values.delete('select_account');
  return values as Set<PromptValue>;
}
