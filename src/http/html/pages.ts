import { createHash } from 'node:crypto';

// The hosted pages: server-rendered, no script, one small inline stylesheet allowed by its hash.
// Every value that reaches the markup passes through `escape`.

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f4f5f7}
main{max-width:24rem;margin:4rem auto;padding:2rem;background:#fff;border:1px solid #d6d9de;border-radius:8px}
h1{font-size:1.4rem;margin:0 0 .25rem}
p{margin:.5rem 0 1rem}
.product{font-weight:600;color:#4a5160;margin:0 0 1.5rem;font-size:.95rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=text],input[type=password]{width:100%;padding:.6rem;font:inherit;border:1px solid #8a919c;border-radius:4px}
input:focus,button:focus{outline:3px solid #2f6fde;outline-offset:1px}
button{margin-top:1.5rem;width:100%;padding:.7rem;font:inherit;font-weight:600;color:#fff;background:#2155c4;border:0;border-radius:4px;cursor:pointer}
button.secondary{color:#1b1f24;background:#e4e7eb}
.alert{padding:.75rem;border-radius:4px;background:#fdecea;color:#8a1c12;border:1px solid #f1b0a8}
ul{padding-left:1.25rem}
code{font-size:.9em}
`.trim();

/** The CSP source for the stylesheet above. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values, escaped for HTML. */
export function escape(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

function layout(productName: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escape(title)} · ${escape(productName)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="product">${escape(productName)}</p>
${body}
</main>
</body>
</html>
`;
}

function hidden(fields: Readonly<Record<string, string | undefined>>): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join('\n');
}

export interface LoginPage {
  readonly productName: string;
  readonly clientName: string;
  /** The authorization request, carried through the form. */
  readonly request: string;
  readonly csrf: string;
  readonly username: string | undefined;
  /** One message for every failure (no hint which part was wrong), announced to screen readers. */
  readonly error: string | undefined;
}

export function loginPage(page: LoginPage): string {
  const error = page.error === undefined ? '' : `<p class="alert" id="form-error" role="alert">${escape(page.error)}</p>\n`;
  const described = page.error === undefined ? '' : ' aria-describedby="form-error" aria-invalid="true"';
  // Focus where the user types next: the password when the username is already known.
  const focusUser = page.username === undefined ? ' autofocus' : '';
  const focusPassword = page.username === undefined ? '' : ' autofocus';
  return layout(
    page.productName,
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escape(page.clientName)}</strong></p>
${error}<form method="post" action="login">
${hidden({ request: page.request, csrf: page.csrf })}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="256"${page.username === undefined ? '' : ` value="${escape(page.username)}"`}${described}${focusUser}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="1024"${described}${focusPassword}>
<button type="submit">Sign in</button>
</form>`,
  );
}

export interface ConsentPage {
  readonly productName: string;
  readonly clientName: string;
  readonly username: string;
  readonly scope: readonly string[];
  readonly request: string;
  /** The scope as shown, carried back with the answer. */
  readonly shown: string;
  readonly csrf: string;
}

export function consentPage(page: ConsentPage): string {
  const scopes = page.scope.length === 0 ? '<p>It asks for no permissions beyond knowing who you are.</p>' : `<ul>\n${page.scope.map((name) => `<li><code>${escape(name)}</code></li>`).join('\n')}\n</ul>`;
  return layout(
    page.productName,
    'Allow access',
    `<h1>Allow access?</h1>
<p><strong>${escape(page.clientName)}</strong> asks to act for <strong>${escape(page.username)}</strong> with these permissions:</p>
${scopes}
<form method="post" action="consent">
${hidden({ request: page.request, shown: page.shown, csrf: page.csrf })}
<button type="submit" name="decision" value="allow" autofocus>Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  );
}

export interface LogoutPage {
  readonly productName: string;
  readonly clientName: string | undefined;
  readonly fields: Readonly<Record<string, string | undefined>>;
}

/** Asked first when a logout request cannot be tied to its client: a link alone must not sign anyone out. */
export function logoutConfirmPage(page: LogoutPage): string {
  const from = page.clientName === undefined ? '' : ` from <strong>${escape(page.clientName)}</strong>`;
  return layout(
    page.productName,
    'Sign out',
    `<h1>Sign out?</h1>
<p>A request${from} asks to sign you out of ${escape(page.productName)} in this browser.</p>
<form method="post" action="logout">
${hidden({ ...page.fields, confirm: 'yes' })}
<button type="submit" autofocus>Sign out</button>
</form>`,
  );
}

export function signedOutPage(productName: string): string {
  return layout(productName, 'Signed out', `<h1>You are signed out</h1>\n<p>You can close this window.</p>`);
}

/** A request that cannot go back to its app (RFC 6749 §4.1.2.1: never redirect to an unverified URI). */
export function errorPage(productName: string, title: string, message: string): string {
  return layout(productName, title, `<h1>${escape(title)}</h1>\n<p role="alert">${escape(message)}</p>`);
}
