import { z } from 'zod';
import { oauthErrorSchema } from '../../oauth/schemas';
import { apiErrorSchema } from '../api-error';
import type { ResponseSpec, RouteSpec } from './route';

// The OpenAPI 3.1 document, written from the routes' declarations (openapi/route.ts) with zod 4's
// own JSON Schema output: OpenAPI 3.1's schema dialect is JSON Schema 2020-12, which is what
// z.toJSONSchema writes, so no converter library sits between the schemas and the document.
// Schemas with an `id` in their metadata become components, referenced wherever they are used.

type Json = Record<string, unknown>;

/** The version of the HTTP API the document describes (not the package's). */
export const API_VERSION = '1.0.0';

const TAGS = [
  { name: 'OAuth', description: 'RFC 6749 token, introspection (RFC 7662), revocation (RFC 7009) and forward-auth endpoints' },
  { name: 'Browser sign-in', description: 'RFC 6749 §4.1 authorization endpoint with PKCE, the hosted login and consent pages, logout' },
  { name: 'Discovery', description: 'RFC 8414 metadata, the JWK set (RFC 7517) and this document' },
  { name: 'Account', description: 'Self-service for the signed-in user' },
  { name: 'Admin: users', description: 'User administration (scopes users:read, users:write, users:delete; admin holds all)' },
  { name: 'Admin: clients', description: 'Client administration (scopes clients:read, clients:write; admin holds all)' },
  { name: 'Health', description: 'Liveness and readiness for orchestrators' },
  { name: 'Docs', description: 'This interactive documentation' },
];

export interface DocumentOptions {
  readonly issuer: string;
  /** Scopes offered in the Authorize dialog besides those the routes require. */
  readonly extraScopes?: readonly string[];
  /** Whether examples carrying the demo data's credentials are shown (only while it is loaded). */
  readonly demoExamples?: boolean;
}

/** Converts zod schemas, gathering those with an id as components (`#/components/schemas/<id>`). */
class SchemaSet {
  readonly components: Record<string, Json> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const converted = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Json;
    const text = JSON.stringify(converted).replaceAll('"#/$defs/', '"#/components/schemas/');
    const { $schema: _dialect, $defs, ...rest } = JSON.parse(text) as Json & { $defs?: Record<string, Json> };
    for (const [id, definition] of Object.entries($defs ?? {})) this.add(id, definition);
    return rest;
  }

  private add(id: string, definition: Json): void {
    const existing = this.components[id];
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(definition)) {
      // One id, two shapes (e.g. a schema used both as input and output): a bug in the schemas.
      throw new Error(`OpenAPI: schema ${id} converts to two different shapes`);
    }
    this.components[id] = definition;
  }
}

/** `/admin/users/:id` → `/admin/users/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function pathParamNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
}

function exampleKey(index: number): string {
  return `example${index + 1}`;
}

function errorResponse(spec: RouteSpec, description: string): ResponseSpec {
  return { description, schema: spec.path.startsWith('/oauth/') ? oauthErrorSchema : apiErrorSchema };
}

/** Errors every route of a kind answers, unless its declaration says more. */
function impliedResponses(spec: RouteSpec): Record<number, ResponseSpec> {
  const implied: Record<number, ResponseSpec> = {};
  const validatedQuery = spec.query !== undefined && 'schema' in spec.query;
  if ((spec.body && 'json' in spec.body) || validatedQuery) implied[400] = errorResponse(spec, 'the request is not valid (details names the fields)');
  if (spec.body && 'json' in spec.body) implied[415] = errorResponse(spec, 'the body is not application/json');
  if (spec.auth.kind === 'bearer') {
    implied[401] = errorResponse(spec, 'no valid access token for this API (RFC 6750 invalid_token, WWW-Authenticate: Bearer)');
    implied[403] = errorResponse(spec, 'the token lacks a required scope (RFC 6750 insufficient_scope)');
  }
  return implied;
}

function security(spec: RouteSpec): Json[] | undefined {
  const { auth } = spec;
  if (auth.kind === 'none') return [];
  // client_secret_post and public clients' client_id travel in the form: so Basic is optional.
  if (auth.kind === 'client') return [{ clientBasic: [] }, {}];
  const scopes = auth.scopes ?? [];
  // Any one of the scopes suffices (OpenAPI lists alternatives); `admin` holds them all.
  if (scopes.length === 0) return [{ oauth2: [] }, { bearer: [] }];
  return scopes.flatMap((scope) => [{ oauth2: [scope] }, { bearer: [scope] }]);
}

function operation(spec: RouteSpec, schemas: SchemaSet, demoExamples: boolean): Json {
  const examples = (spec.examples ?? []).filter((example) => demoExamples || example.demo !== true);
  const parameters: Json[] = [];
  for (const name of pathParamNames(spec.path)) {
    const param = spec.params?.[name];
    const values = examples.map((example, index) => [exampleKey(index), example.params?.[name]] as const).filter(([, value]) => value !== undefined);
    parameters.push({
      name,
      in: 'path',
      required: true,
      ...(param ? { description: param.description } : {}),
      schema: param?.schema ? schemas.convert(param.schema, 'input') : { type: 'string' },
      ...(values.length > 0 ? { examples: Object.fromEntries(values.map(([key, value]) => [key, { value }])) } : {}),
    });
  }
  if (spec.query) {
    const schema = 'schema' in spec.query ? spec.query.schema : spec.query.oauth;
    const converted = schemas.convert(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, property] of Object.entries(converted.properties ?? {})) {
      const { description, ...rest } = property;
      const values = examples.map((example, index) => [exampleKey(index), example.query?.[name]] as const).filter(([, value]) => value !== undefined);
      parameters.push({
        name,
        in: 'query',
        required: converted.required?.includes(name) ?? false,
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
        ...(values.length > 0 ? { examples: Object.fromEntries(values.map(([key, value]) => [key, { value }])) } : {}),
      });
    }
  }

  let requestBody: Json | undefined;
  if (spec.body) {
    const [mediaType, schema, required] = 'json' in spec.body ? ['application/json', spec.body.json, !spec.body.optional] : ['application/x-www-form-urlencoded', spec.body.form, true];
    const bodyExamples = examples.map((example, index) => [exampleKey(index), example] as const).filter(([, example]) => example.body !== undefined);
    requestBody = {
      required,
      content: {
        [mediaType]: {
          schema: schemas.convert(schema, 'input'),
          ...(bodyExamples.length > 0 ? { examples: Object.fromEntries(bodyExamples.map(([key, example]) => [key, { summary: example.summary, value: example.body }])) } : {}),
        },
      },
    };
  }

  const responses: Json = {};
  const all = { ...impliedResponses(spec), ...spec.responses };
  for (const status of Object.keys(all).map(Number).sort((a, b) => a - b)) {
    const response = all[status]!;
    const headers = Object.entries(response.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: 'string' } }]);
    let content: Json | undefined;
    if (response.schema) content = { [response.contentType ?? 'application/json']: { schema: schemas.convert(response.schema, 'output') } };
    else if (response.contentType) content = { [response.contentType]: { schema: { type: 'string' } } };
    responses[String(status)] = { description: response.description, ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}), ...(content ? { content } : {}) };
  }

  const exampleSummaries = examples.map((example, index) => ({ name: exampleKey(index), summary: example.summary }));
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [...spec.tags],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
    security: security(spec),
    ...(spec.anyMethod ? { 'x-portcullis-any-method': true } : {}),
    ...(exampleSummaries.length > 0 ? { 'x-portcullis-examples': exampleSummaries } : {}),
  };
}

/** The OpenAPI 3.1 document of `specs`, the routes as the routers registered them. */
export function openApiDocument(specs: readonly RouteSpec[], options: DocumentOptions): Json {
  const schemas = new SchemaSet();
  const paths: Record<string, Record<string, Json>> = {};
  // Only the scopes the routes require: `admin` (every scope) is never offered in the Authorize
  // dialog, where a click would put the most powerful token there is into a browser page.
  const scopes = new Set<string>(options.extraScopes ?? []);
  for (const spec of specs) {
    const path = openApiPath(spec.path);
    const item = (paths[path] ??= {});
    if (item[spec.method]) throw new Error(`OpenAPI: ${spec.method.toUpperCase()} ${spec.path} is declared twice`);
    item[spec.method] = operation(spec, schemas, options.demoExamples === true);
    if (spec.auth.kind === 'bearer') for (const scope of spec.auth.scopes ?? []) scopes.add(scope);
  }
  const scopeDescriptions = Object.fromEntries([...scopes].sort().map((scope) => [scope, scope === 'admin' ? 'every scope' : scope]));
  const issuer = options.issuer;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis',
      version: API_VERSION,
      description: 'OAuth 2.0 authorization server: tokens, introspection, revocation, forward-auth, browser sign-in, and the account and admin APIs.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: issuer }],
    tags: TAGS,
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas.components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          description: 'Access tokens of this service (RFC 9068 JWTs whose aud names this API)',
          flows: {
            authorizationCode: { authorizationUrl: `${issuer}/oauth/authorize`, tokenUrl: `${issuer}/oauth/token`, refreshUrl: `${issuer}/oauth/token`, scopes: scopeDescriptions },
            clientCredentials: { tokenUrl: `${issuer}/oauth/token`, refreshUrl: `${issuer}/oauth/token`, scopes: scopeDescriptions },
          },
        },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token obtained elsewhere, pasted' },
        clientBasic: { type: 'http', scheme: 'basic', description: 'RFC 6749 §2.3.1 client_secret_basic (client_secret_post sends client_id and client_secret in the form instead)' },
      },
    },
  };
}
