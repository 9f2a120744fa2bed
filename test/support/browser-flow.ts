import { createHash, randomBytes } from 'node:crypto';
import type Koa from 'koa';
import request from 'supertest';
import type { AppState } from '../../src/http/context';
import { ISSUER } from './oauth-fixture';

/** A browser as the authorization endpoint sees it: a cookie jar, an Origin for its form posts. */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly app: Koa<AppState>) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private keep(response: request.Response): request.Response {
    const set = response.headers['set-cookie'] as unknown as string[] | undefined;
    for (const line of set ?? []) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async get(path: string): Promise<request.Response> {
    const pending = request(this.app.callback()).get(path);
    if (this.cookies.size > 0) pending.set('Cookie', this.cookieHeader());
    return this.keep(await pending);
  }

  async post(path: string, form: Record<string, string>, origin: string | undefined = new URL(ISSUER).origin): Promise<request.Response> {
    const pending = request(this.app.callback()).post(path).type('form').send(form);
    if (this.cookies.size > 0) pending.set('Cookie', this.cookieHeader());
    if (origin !== undefined) pending.set('Origin', origin);
    return this.keep(await pending);
  }
}

/** The hidden fields of the page's form. */
export function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1]!] = match[2]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  return fields;
}

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return `/oauth/authorize?${query}`;
}

/** The parameters the app receives at its redirect URI. */
export function callbackParams(response: request.Response): URLSearchParams {
  return new URL(response.headers.location as string).searchParams;
}
