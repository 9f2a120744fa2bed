// The rules for the URIs a client registers for the authorization-code flow (redirect_uri) and
// for RP-initiated logout (post_logout_redirect_uri). They are stored exactly as given and later
// compared character for character (RFC 9700 §2.1), so nothing here normalises: a URI is taken
// as written or refused with the reason.

export const MAX_REDIRECT_URIS = 20;
export const MAX_REDIRECT_URI_LENGTH = 2000;

/** RFC 8252 §7.3, RFC 9700 §2.1: plain http only back to this device, written as these hosts. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

// RFC 3986 §2: the characters a URI may hold (unreserved, reserved, '%'); no space, control,
// non-ASCII, backslash, quote, '<', '>', '^', '`', '{', '|', '}'. A browser reads some of those
// differently from this parser (WHATWG treats '\' as '/'), which is how "the host we checked"
// and "the host the browser goes to" come apart.
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
// RFC 3986 appendix B, with the scheme grammar of §3.1.
const URI_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(#.*)?$/;
// Parameters the server adds to a redirect (RFC 6749 §4.1.2, RFC 9207): one already in the
// registered URI would reach the app twice, and an app reading the first would read ours.
const RESPONSE_PARAMETERS: ReadonlySet<string> = new Set(['code', 'state', 'iss', 'error', 'error_description', 'error_uri']);
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|[^:@[\]]*)(?::(\d*))?$/;

/**
 * Why `uri` cannot be registered as a redirect or post-logout redirect URI, or undefined when it
 * can. Absolute; no fragment (RFC 6749 §3.1.2); no userinfo; `https:` to any host, `http:` only
 * to a loopback host (RFC 8252 §7.3), or a private-use scheme in reverse-domain form for native
 * apps (RFC 8252 §7.1: it holds a dot, `com.example.app:/cb`). Every other scheme is refused:
 * `javascript:`, `data:`, `file:`, `vbscript:` and the like run or read something, not redirect.
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length === 0) return 'is empty';
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `is longer than ${MAX_REDIRECT_URI_LENGTH} characters`;
  if (/[\s\p{Cc}]/u.test(uri)) return 'holds whitespace or a control character';
  if (!URI_CHARACTERS.test(uri)) return 'holds a character a URI may not (RFC 3986 §2: percent-encode it)';
  if (BAD_PERCENT.test(uri)) return "holds a '%' that does not begin a percent-encoded octet";
  const parts = URI_PARTS.exec(uri);
  if (!parts) return 'is not an absolute URI (scheme:...)';
  const [, schemeText, authority, path, query, fragment] = parts;
  if (fragment !== undefined) return 'has a fragment (#), which a redirect URI must not (RFC 6749 §3.1.2)';
  // Read as loosely as any app's parser might: `;` as a separator too, any case, decoded.
  const reserved = (query ?? '')
    .split(/[&;]/)
    .map((pair) => safeDecode(pair.split('=')[0]!.replace(/\+/g, ' ')).trim().toLowerCase())
    .find((name) => RESPONSE_PARAMETERS.has(name) || RESPONSE_PARAMETERS.has(name.replace(/^amp;/, '')));
  if (reserved !== undefined) return `has the parameter ${reserved} in its query, which the authorization response sets itself`;
  const scheme = schemeText!.toLowerCase();
  if (authority?.includes('@')) return 'has userinfo (user@ or user:password@), which a redirect URI must not';

  if (scheme === 'https' || scheme === 'http') {
    if (authority === undefined) return `is not a ${scheme}: URI with a host (${scheme}://host/...)`;
    const hostPort = AUTHORITY.exec(authority);
    if (!hostPort || hostPort[1] === '') return `has no valid host: ${authority}`;
    if (!parsesAsUrl(uri)) return 'is not a URL a browser can follow';
    if (scheme === 'http' && !LOOPBACK_HOSTS.has(hostPort[1]!.toLowerCase())) {
      return 'uses http: for a host other than localhost, 127.0.0.1 or [::1] (use https:, RFC 9700 §2.6)';
    }
    return undefined;
  }
  // A scheme beginning like a script scheme is refused even with a dot: a browser that strips or
  // misreads the rest must not run it.
  if (!scheme.includes('.') || /^(javascript|vbscript|data|file|blob)/.test(scheme.replace(/[^a-z]/g, ''))) {
    return `uses the scheme ${scheme}:, which is not https:, http: to a loopback host, or a private-use scheme in reverse-domain form (com.example.app:/cb, RFC 8252 §7.1)`;
  }
  if (authority === undefined && path === '') return 'has nothing after the scheme';
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parsesAsUrl(uri: string): boolean {
  try {
    new URL(uri);
    return true;
  } catch {
    return false;
  }
}

/** The problems of one list (`label` names it in messages): too many entries, then each URI's. */
export function redirectUriListProblems(label: string, uris: readonly string[]): string[] {
  if (uris.length > MAX_REDIRECT_URIS) return [`at most ${MAX_REDIRECT_URIS} ${label}`];
  return uris.flatMap((uri) => {
    const problem = redirectUriProblem(uri);
    return problem === undefined ? [] : [`${label}: ${JSON.stringify(uri.length > 100 ? `${uri.slice(0, 100)}...` : uri)} ${problem}`];
  });
}
