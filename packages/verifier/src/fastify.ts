// @portcullis/verifier/fastify — preHandler hooks; the caller is on `request.auth`.
//
//   const auth = createVerifier({ mode: 'jwks', issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
//   app.get('/items', { preHandler: auth.requireScopes('items:read') }, async (request) => ({ sub: request.auth?.sub }));
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRequestVerifier, type RequestVerifier, type VerifierOptions } from './core.js';
import { guards, type Guards } from './guards.js';
import type { Requirement } from './request-verifier.js';
import type { AuthInfo } from './types.js';

export * from './core.js';

// fastify is a type here only (its own types, which it ships); nothing of it runs from here.
declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthInfo;
  }
}

/** An async hook: returning the reply it has sent ends the request there (Fastify's rule). */
export type FastifyHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
export type FastifyGuards = Guards<FastifyHook>;

export function fastifyGuards(verifier: RequestVerifier): FastifyGuards {
  const hook =
    (requirement: Requirement): FastifyHook =>
    async (request, reply) => {
      const result = await verifier.verify(request, requirement);
      if (!result.ok) return reply.code(result.status).headers(result.headers).send(result.body);
      if (result.auth) request.auth = result.auth;
      return undefined;
    };
  return guards(hook, hook);
}

export interface FastifyVerifier extends FastifyGuards, RequestVerifier {}

export function createVerifier(options: VerifierOptions): FastifyVerifier {
  const requests = createRequestVerifier(options);
  return { ...fastifyGuards(requests), ...requests };
}
