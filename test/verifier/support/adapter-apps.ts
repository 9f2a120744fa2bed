import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { createVerifier as koaVerifier, type AuthInfo, type AuthState, type JwksModeOptions } from '@portcullis/verifier';
import { createVerifier as expressVerifier } from '@portcullis/verifier/express';
import { createVerifier as fastifyVerifier } from '@portcullis/verifier/fastify';
import { createVerifier as nodeVerifier } from '@portcullis/verifier/node';

// One small API written four times, once per framework, each with the adapter a service on that
// framework would use: GET /items needs items:read, GET /whoami any valid token, GET /public is
// open and greets a caller who sent a token.

export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

export type StartApp = (options: JwksModeOptions) => Promise<RunningApp>;

const caller = (auth: AuthInfo | undefined) => ({ sub: auth?.sub, subjectType: auth?.subjectType });
const greeting = (auth: AuthInfo | undefined) => ({ greeting: auth ? `hello, ${auth.username ?? auth.sub}` : 'hello, guest' });

async function listening(server: Server): Promise<RunningApp> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export const startExpress: StartApp = (options) => {
  const auth = expressVerifier(options);
  const app = express();
  app.get('/items', auth.requireScopes('items:read'), (req, res) => {
    res.json(caller(req.auth));
  });
  app.get('/whoami', auth.authenticate(), (req, res) => {
    res.json(caller(req.auth));
  });
  app.get('/public', auth.optional(), (req, res) => {
    res.json(greeting(req.auth));
  });
  return listening(createServer(app));
};

export const startFastify: StartApp = async (options) => {
  const auth = fastifyVerifier(options);
  const app = Fastify();
  app.get('/items', { preHandler: auth.requireScopes('items:read') }, async (request) => caller(request.auth));
  app.get('/whoami', { preHandler: auth.authenticate() }, async (request) => caller(request.auth));
  app.get('/public', { preHandler: auth.optional() }, async (request) => greeting(request.auth));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
};

export const startNodeHttp: StartApp = (options) => {
  const auth = nodeVerifier(options);
  const routes = { '/items': auth.requireScopes('items:read'), '/whoami': auth.authenticate(), '/public': auth.optional() };
  const server = createServer((req, res) => {
    const path = req.url as keyof typeof routes;
    const guard = routes[path];
    if (!guard) return void res.writeHead(404).end();
    void guard(req, res).then((result) => {
      if (!result.ok) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(path === '/public' ? greeting(result.auth) : caller(result.auth)));
    });
  });
  return listening(server);
};

export const startKoa: StartApp = (options) => {
  const auth = koaVerifier(options);
  const app = new Koa<AuthState>();
  const router = new Router<AuthState>();
  router.get('/items', auth.requireScopes('items:read'), (ctx) => {
    ctx.body = caller(ctx.state.auth);
  });
  router.get('/whoami', auth.authenticate(), (ctx) => {
    ctx.body = caller(ctx.state.auth);
  });
  router.get('/public', auth.optional(), (ctx) => {
    ctx.body = greeting(ctx.state.auth);
  });
  app.use(router.routes());
  return listening(createServer(app.callback()));
};
