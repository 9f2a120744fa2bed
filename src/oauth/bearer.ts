// RFC 6750's `Authorization: Bearer` parsing and `WWW-Authenticate` challenge live in the verifier
// package (packages/verifier/src/bearer.ts): the server answers challenges exactly as the
// verifiers it ships do, from one source.
export { bearerChallenge, parseBearer, type BearerResult, type ChallengeError } from '@portcullis/verifier/bearer';
