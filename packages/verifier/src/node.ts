// @portcullis/verifier/node — plain node:http: each guard answers a refusal itself and hands the
// result back, so a handler returns when it is not ok.
//
//   const readItems = createVerifier(options).requireScopes('items:read');
//   http.createServer(async (req, res) => {
//     const result = await readItems(req, res);
//     if (!result.ok) return; // already answered 401/403/503
//     res.end(JSON.stringify({ sub: result.auth.sub }));
//   });
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequestVerifier, type RequestVerifier, type VerifierOptions } from './core.js';
import { guards, type Guards } from './guards.js';
import type { Refusal, Requirement, VerifyResult } from './request-verifier.js';
import type { AuthInfo } from './types.js';

export * from './core.js';

export type NodeGuard<A> = (req: IncomingMessage, res: ServerResponse) => Promise<VerifyResult<A>>;
export type NodeGuards = Guards<NodeGuard<AuthInfo>, NodeGuard<AuthInfo | undefined>>;

/** Writes a refusal as the whole response: status, headers, JSON body. */
export function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  res.writeHead(refusal.status, { ...refusal.headers, 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(refusal.body));
}

export function nodeGuards(verifier: RequestVerifier): NodeGuards {
  const guard =
    <A>(requirement: Requirement) =>
    async (req: IncomingMessage, res: ServerResponse): Promise<VerifyResult<A>> => {
      const result = (await verifier.verify(req, requirement)) as VerifyResult<A>;
      if (!result.ok) sendRefusal(res, result);
      return result;
    };
  return guards(guard<AuthInfo>, guard<AuthInfo | undefined>);
}

export interface NodeVerifier extends NodeGuards, RequestVerifier {}

export function createVerifier(options: VerifierOptions): NodeVerifier {
  const requests = createRequestVerifier(options);
  return { ...nodeGuards(requests), ...requests };
}
