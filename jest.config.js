// jose 6 and uuid 14 ship ESM only. Jest's module loader is CommonJS, so swc transforms them (and our
// TypeScript) to CommonJS; compiled code in dist/ uses Node 20.19+'s native require(esm).
// PGlite loads its WASM build with a dynamic import(), which jest's sandbox allows only when
// node runs with --experimental-vm-modules: `npm test` passes that flag.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|oauth4webapi|uuid|@seriousme)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
