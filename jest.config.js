/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The generated Prisma client imports its own TypeScript files with .js extensions.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Starts PostgreSQL and the Temporal dev server once, and bundles the workflows once.
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  // Quiet on success: SDK logs at warn unless TEST_LOG_LEVEL says otherwise.
  setupFiles: ['<rootDir>/test/harness/quiet-runtime.ts'],
  testTimeout: 120_000,
  maxWorkers: 2,
};
