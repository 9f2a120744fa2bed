// The scope language (grammar and matcher) lives in the verifier package that resource services
// install (packages/verifier/src/scopes.ts): the server re-exports it, so a scope the server
// grants is read the same way by every verifier, from one source.
export { formatScope, grants, hasAllScopes, hasScope, isValidScope, parseScope } from '@portcullis/verifier/scopes';
