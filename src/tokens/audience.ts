// RFC 7519 §4.1.3 / RFC 7662 §2.2: the one audience check of the server's own APIs, forward-auth
// and the verifier package, kept in the package (packages/verifier/src/audience.ts).
export { audienceIncludes } from '@portcullis/verifier/audience';
