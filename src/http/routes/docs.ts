import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import type { Config } from '../../config/config';
import { DEMO_CODE_CLIENT_ID, demoDataEnabled, docsRedirectUri } from '../../identity/demo-data';
import { apiErrorSchema } from '../api-error';
import type { AppContext, AppState } from '../context';
import { openApiDocument } from '../openapi/document';
import { defineRoute, routeSpecs, type RouteSpec } from '../openapi/route';
import { newRouter } from './router';

// GET /openapi.json and the interactive docs at /docs: Swagger UI from the swagger-ui-dist
// package, served from this process (no CDN), under a CSP that allows only our own scripts,
// styles and calls. Swagger UI's init lives in a served script, not inline, so script-src
// 'self' needs no hash. style-src also allows 'unsafe-inline': Swagger UI's React components
// write style attributes; no script can be injected through a style.

export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A file of the docs: its bytes (read once), type and validator. */
interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

/** The files of swagger-ui-dist /docs serves; nothing else of node_modules is reachable. */
const VENDOR_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'oauth2-redirect.html', 'oauth2-redirect.js', 'favicon-32x32.png', 'favicon-16x16.png'] as const;

function asset(name: string, body: Buffer | string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return { body: bytes, type: TYPES[path.extname(name)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"` };
}

function vendorDirectory(): string {
  return path.dirname(createRequire(__filename).resolve('swagger-ui-dist/package.json'));
}

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portcullis API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/**
 * Swagger UI's settings. In development with the demo data, the Authorize dialog is filled in
 * with the demo SPA client (code flow with PKCE), whose redirect URIs include this page's;
 * elsewhere the operator enters a client registered with that redirect URI.
 */
function initScript(config: Pick<Config, 'issuer' | 'databaseUrl' | 'production'>): string {
  const oauth = { usePkceWithAuthorizationCodeGrant: true, ...(demoDataEnabled(config) ? { clientId: DEMO_CODE_CLIENT_ID } : {}) };
  return `'use strict';
window.addEventListener('load', function () {
  var ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    oauth2RedirectUrl: ${JSON.stringify(docsRedirectUri(config.issuer))},
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
  ui.initOAuth(${JSON.stringify(oauth)});
  window.ui = ui;
});
`;
}

/** Answers a file with its validator; 304 when the browser's copy is current. */
function sendAsset(ctx: AppContext, file: Asset, cacheControl: string): void {
  ctx.set('Cache-Control', cacheControl);
  ctx.set('ETag', file.etag);
  ctx.status = 200;
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.type = file.type;
  ctx.body = file.body;
}

/** Every route the app's routers declared, in the order they were registered. */
export function appRouteSpecs(app: Koa<AppState>): RouteSpec[] {
  return app.middleware.flatMap((middleware) => {
    const router = (middleware as { router?: Router<AppState> }).router;
    return router ? [...routeSpecs(router)] : [];
  });
}

const openApiSchema = z.looseObject({ openapi: z.literal('3.1.0') }).meta({ id: 'OpenAPIDocument', description: 'This document' });

/**
 * The document is written once, on its first request, from the routes `app` registered by then
 * (every router, this one included): nothing per request but the send.
 */
export function docsRoutes(config: Config, app: Koa<AppState>): Router<AppState> {
  const router = newRouter();
  let document: Asset | undefined;
  const vendor = new Map<string, Promise<Asset>>();
  const generated = new Map<string, Asset>([
    ['index.html', asset('index.html', INDEX_HTML)],
    ['init.js', asset('init.js', initScript(config))],
  ]);
  const files = [...generated.keys(), ...VENDOR_FILES];

  function vendorFile(name: string): Promise<Asset> {
    let file = vendor.get(name);
    if (file === undefined) {
      file = readFile(path.join(vendorDirectory(), name)).then((bytes) => asset(name, bytes));
      file.catch(() => vendor.delete(name));
      vendor.set(name, file);
    }
    return file;
  }

  defineRoute(router, {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    summary: 'This OpenAPI 3.1 document',
    tags: ['Discovery'],
    auth: { kind: 'none' },
    responses: { 200: { description: 'the document; Cache-Control: public, max-age=300', schema: openApiSchema } },
    examples: [{ summary: 'the document' }],
  }, (ctx) => {
    document ??= asset('openapi.json', JSON.stringify(openApiDocument(appRouteSpecs(app), { issuer: config.issuer, demoExamples: demoDataEnabled(config) })));
    sendAsset(ctx, document, 'public, max-age=300');
  });

  defineRoute(router, {
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    summary: 'Interactive documentation (Swagger UI)',
    tags: ['Docs'],
    auth: { kind: 'none' },
    responses: { 200: { description: 'the page', contentType: 'text/html' } },
    examples: [{ summary: 'the page' }],
  }, (ctx) => {
    ctx.set('Content-Security-Policy', DOCS_CSP);
    sendAsset(ctx, generated.get('index.html')!, 'public, max-age=300');
  });

  defineRoute(router, {
    method: 'get',
    path: '/docs/:file',
    operationId: 'docsAsset',
    summary: 'A file of the interactive documentation',
    tags: ['Docs'],
    auth: { kind: 'none' },
    params: { file: { description: 'one of the documentation\'s files', schema: z.enum(files as [string, ...string[]]) } },
    responses: { 200: { description: 'the file', contentType: 'application/octet-stream' }, 304: { description: 'not modified (If-None-Match)' }, 404: { description: 'no such file', schema: apiErrorSchema } },
    examples: [{ summary: 'the init script', params: { file: 'init.js' } }],
  }, async (ctx) => {
    const name = ctx.params.file!;
    const own = generated.get(name);
    if (own === undefined && !(VENDOR_FILES as readonly string[]).includes(name)) return; // 404
    ctx.set('Content-Security-Policy', DOCS_CSP);
    // Swagger UI's files are named without a version: an hour, then revalidated by ETag. The
    // redirect page is loaded with the authorization response in its URL (?code=&state=): no
    // cache keeps a copy under that URL.
    const cache = name === 'oauth2-redirect.html' ? 'no-store' : own ? 'public, max-age=300' : 'public, max-age=3600';
    sendAsset(ctx, own ?? (await vendorFile(name)), cache);
  });

  return router;
}
