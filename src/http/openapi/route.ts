import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { z } from 'zod';
import type { AppContext, AppState } from '../context';
import { requireScope } from '../middleware/bearer-auth';
import { jsonBody, queryParams } from '../validate';

/**
 * A route declared once: the router registers it from this (method, path, scopes, body and
 * query validation) and the OpenAPI document (openapi/document.ts) is written from the same
 * object, so the two cannot drift (STYLE.md "Routes and parameters as data").
 */

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

/** Who may call: nobody in particular, a bearer token of this API, or an OAuth client. */
export type RouteAuth =
  | { readonly kind: 'none' }
  /** A user's or client's access token for this API; `scopes`: any one of them suffices. */
  | { readonly kind: 'bearer'; readonly scopes?: readonly string[]; readonly checkedBy?: 'route' | 'handler' }
  /** RFC 6749 §2.3 client authentication: HTTP Basic, or client_id (and client_secret) in the form. */
  | { readonly kind: 'client' };

export interface ResponseSpec {
  readonly description: string;
  /** The JSON body; absent for an empty body or a non-JSON one (`contentType`). */
  readonly schema?: z.ZodType;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request the docs show and the example test (test/http/openapi-examples.test.ts) sends. */
export interface RouteExample {
  readonly summary: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: Readonly<Record<string, unknown>>;
  /** Carries the demo data's credentials: in the document only while the demo data is loaded. */
  readonly demo?: boolean;
}

export interface RouteSpec {
  readonly method: HttpMethod;
  /** Any method is answered alike (forward-auth); documented as `method`. */
  readonly anyMethod?: boolean;
  /** The full path in the router's syntax (`/admin/users/:id`). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly auth: RouteAuth;
  readonly params?: Readonly<Record<string, { readonly description: string; readonly schema?: z.ZodType }>>;
  /**
   * `schema`: validated before the handler (400 with field messages). `oauth`: parsed and
   * checked by the protocol code in oauth/ (RFC 6749 §5.2 errors); the schema documents it.
   */
  readonly query?: { readonly schema: z.ZodObject } | { readonly oauth: z.ZodObject };
  /**
   * `json`: validated before the handler (415 when not JSON, 400 with field messages);
   * `optional`: no body at all stands for `{}`. `form`: an OAuth form body (RFC 6749 §3.2),
   * parsed strictly by the body middleware and checked by the protocol code in oauth/, which
   * answers RFC 6749 §5.2 errors; the schema documents it.
   */
  readonly body?: { readonly json: z.ZodType; readonly optional?: boolean } | { readonly form: z.ZodType };
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  readonly examples?: readonly RouteExample[];
}

export interface RouteInput<S extends RouteSpec> {
  readonly body: S['body'] extends { readonly json: infer B extends z.ZodType } ? z.output<B> : undefined;
  readonly query: S['query'] extends { readonly schema: infer Q extends z.ZodType } ? z.output<Q> : undefined;
}

export type RouteHandler<S extends RouteSpec> = (ctx: AppContext, input: RouteInput<S>) => unknown;

const declared = new WeakMap<Router<AppState>, RouteSpec[]>();

/** The routes declared on `router`, in registration order. */
export function routeSpecs(router: Router<AppState>): readonly RouteSpec[] {
  return declared.get(router) ?? [];
}

/** Builds the spec with its literal types kept (so handlers get typed input). */
export function route<const S extends RouteSpec>(spec: S): S {
  return spec;
}

function readBody(ctx: AppContext, body: Extract<RouteSpec['body'], { json: z.ZodType }>): unknown {
  if (body.optional && !ctx.request.type && !ctx.request.length) return body.json.parse({});
  return jsonBody(ctx, body.json);
}

/**
 * Registers `spec` on `router` (whose prefix the path starts with): the scope check from
 * `spec.auth`, then query and JSON body validation, then `handler`. A route with neither adds
 * no work per request (the hot paths: introspection, forward-auth).
 */
export function defineRoute<const S extends RouteSpec>(router: Router<AppState>, spec: S, handler: RouteHandler<S>): void {
  const prefix = router.opts.prefix ?? '';
  if (!spec.path.startsWith(prefix)) throw new Error(`route ${spec.path} is outside its router's prefix ${prefix}`);
  const local = spec.path.slice(prefix.length) || '/';
  const chain: Array<Middleware<AppState>> = [];
  if (spec.auth.kind === 'bearer' && spec.auth.scopes && spec.auth.checkedBy !== 'handler') chain.push(requireScope(...spec.auth.scopes));
  const { body } = spec;
  const query = spec.query && 'schema' in spec.query ? spec.query.schema : undefined;
  const json = body && 'json' in body ? body : undefined;
  if (query === undefined && json === undefined) {
    chain.push((ctx) => handler(ctx, { body: undefined, query: undefined } as RouteInput<S>) as Promise<void>);
  } else {
    chain.push((ctx) => {
      const input = { query: query ? queryParams(ctx, query) : undefined, body: json ? readBody(ctx, json) : undefined };
      return handler(ctx, input as RouteInput<S>) as Promise<void>;
    });
  }
  if (spec.anyMethod) router.all(local, ...chain);
  else router[spec.method](local, ...chain);
  const list = declared.get(router) ?? [];
  list.push(spec);
  declared.set(router, list);
}
