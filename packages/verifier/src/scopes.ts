// The scope language, shared by the authorization server (granting, admin checks) and the
// verifiers of resource services: the server imports this file from this package, so both sides
// always read scopes by one grammar and one rule set:
//   - a scope is `*`, or segments of letters, digits and `. _ -` joined by `:`, optionally ending
//     in a `:*` wildcard segment (`items:*`); nothing else (no `,` `;` `=` or spaces, which a
//     gateway or a resource service could read as more than one scope);
//   - a held scope grants exactly itself;
//   - `*` and `admin` grant everything;
//   - `a:b:*` grants `a:b` and anything below it (`a:b:c`, `a:b:c:d`), nothing beside it. A
//     wildcard's base is never `*` or `admin`, so no wildcard ever grants `admin` or `*`.

const SCOPE = /^(?:\*|[A-Za-z0-9._-]+(?::[A-Za-z0-9._-]+)*(?::\*)?)$/;
const MAX_SCOPE_LENGTH = 128;
const UNIVERSAL = new Set(['*', 'admin']);
/** Wildcards that would reach a universal scope (`admin:*` would grant `admin`). */
const FORBIDDEN_WILDCARDS = new Set(['admin:*', '*:*']);

export function isValidScope(scope: string): boolean {
  return scope.length <= MAX_SCOPE_LENGTH && SCOPE.test(scope) && !FORBIDDEN_WILDCARDS.has(scope);
}

/** Splits an RFC 6749 §3.3 scope string. Returns undefined when any token is malformed;
 *  duplicates collapse, order is kept. */
export function parseScope(text: string): string[] | undefined {
  const tokens = text.split(' ').filter((token) => token !== '');
  if (!tokens.every(isValidScope)) return undefined;
  return [...new Set(tokens)];
}

export function formatScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}

/**
 * Does one held scope grant the required one? A held scope outside the grammar (written before
 * the grammar existed; `portcullis migrate` reports them) grants only itself, never as a wildcard.
 */
export function grants(held: string, required: string): boolean {
  if (held === required || UNIVERSAL.has(held)) return true;
  if (!held.endsWith(':*') || !isValidScope(held)) return false;
  const base = held.slice(0, -2);
  return required === base || required.startsWith(`${base}:`);
}

/** Does any held scope grant the required one? */
export function hasScope(held: Iterable<string>, required: string): boolean {
  for (const scope of held) if (grants(scope, required)) return true;
  return false;
}

export function hasAllScopes(held: Iterable<string>, required: Iterable<string>): boolean {
  const heldList = [...held];
  for (const scope of required) if (!hasScope(heldList, scope)) return false;
  return true;
}
