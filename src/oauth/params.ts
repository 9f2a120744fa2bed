import { isWellFormedText, MALFORMED_TEXT } from '../text-input';
import { OAuthError } from './errors';

/** The parameters of an OAuth request body, each at most once. */
export type OAuthParams = ReadonlyMap<string, string>;

/**
 * Parses an application/x-www-form-urlencoded body strictly: RFC 6749 §3.1/§3.2 say parameters
 * must not be repeated, so a repeat is invalid_request rather than "first wins" or an array.
 * Names in `multi` may repeat (RFC 8707 `resource`); their values are joined by a space.
 * A NUL (`%00`) in a name or value is invalid_request naming the parameter but not echoing the
 * value: it would otherwise reach PostgreSQL (a username, a client_id) and fail there as a 500.
 */
export function parseFormParams(raw: string, multi: ReadonlySet<string> = new Set()): OAuthParams {
  const params = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(raw)) {
    if (!isWellFormedText(value) || !isWellFormedText(name)) {
      const which = isWellFormedText(name) ? `parameter ${name}` : 'a parameter name';
      throw new OAuthError('invalid_request', `${which} ${MALFORMED_TEXT}`);
    }
    if (multi.has(name)) {
      repeated.set(name, [...(repeated.get(name) ?? []), value]);
      continue;
    }
    if (params.has(name)) throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
    // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    if (value !== '') params.set(name, value);
  }
  for (const [name, values] of repeated) params.set(name, values.join(' '));
  return params;
}

export function required(params: OAuthParams, name: string): string {
  const value = params.get(name);
  if (value === undefined) throw new OAuthError('invalid_request', `missing parameter: ${name}`);
  return value;
}
