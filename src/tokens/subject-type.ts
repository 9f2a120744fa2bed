// Whom a token acts for is read by the server (forward-auth, the admin API) and by the verifiers
// of resource services alike; the rule lives in the verifier package (packages/verifier/src/
// subject-type.ts), from one source.
export { subjectType, type SubjectType } from '@portcullis/verifier/subject-type';
