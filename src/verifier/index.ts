// portcullis/verifier: kept for the callers inside this repository (tests, the benchmark) and any
// that import it by this name. The verifier is its own package now, @portcullis/verifier
// (packages/verifier), which resource services in other repositories install.
export * from '@portcullis/verifier';
