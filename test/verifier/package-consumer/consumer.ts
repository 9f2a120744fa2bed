// Type-checked in the scratch project as consumer.ts (CommonJS) and consumer.mts (ESM) under
// node16, nodenext and bundler resolution (test/e2e/verifier-package.test.ts): every entry point
// of the installed package must type there.
import { createVerifier, type AuthInfo, type AuthState, type VerifierOptions } from '@portcullis/verifier';
import { createRequestVerifier, hasScope, type VerifyResult } from '@portcullis/verifier/core';
import { createVerifier as expressVerifier, type ExpressHandler } from '@portcullis/verifier/express';
import { createVerifier as fastifyVerifier, type FastifyHook } from '@portcullis/verifier/fastify';
import { createVerifier as nodeVerifier, type NodeGuard } from '@portcullis/verifier/node';

const options: VerifierOptions = { mode: 'jwks', issuer: 'https://auth.example.com', audience: 'https://items.example.com' };

export const koa = createVerifier(options).requireScopes('items:read');
export const state: AuthState = {};
export const express: ExpressHandler = expressVerifier(options).authenticate();
export const fastify: FastifyHook = fastifyVerifier(options).optional();
export const node: NodeGuard<AuthInfo> = nodeVerifier(options).requireScopes('items:read');

export async function caller(headers: Record<string, string>): Promise<string | undefined> {
  const result: VerifyResult<AuthInfo> = await createRequestVerifier(options).verify({ headers });
  return result.ok && hasScope(result.auth.scopes, 'items:read') ? result.auth.sub : undefined;
}
