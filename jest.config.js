/**
 * Two tiers (jest `projects`). `unit`: the pure suites, which need no service, no global setup and
 * no Temporal runtime (`npm run test:unit`, seconds). `integration`: every other suite, against the
 * real services the global setup starts once (PostgreSQL, the Temporal dev server, the time-skipping
 * server, one workflow bundle). `npm test` runs both; `npm test -- test/x.test.ts` runs one file,
 * and a project's global setup runs only when one of its files is selected.
 */
const UNIT = [
  'lifecycle',
  'schedule',
  'occurrences',
  'render',
  'channels',
  'tracking-tokens',
  'configuration-doc',
  'lint-fences',
];
const unitMatch = UNIT.map((name) => `**/${name}.test.ts`);

const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // The generated Prisma client imports its own TypeScript files with .js extensions.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120_000,
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: unitMatch,
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...UNIT.map((name) => `/${name}\\.test\\.ts$`)],
      // Starts PostgreSQL and the Temporal dev server once, and bundles the workflows once.
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
      // Quiet on success: SDK logs at warn unless TEST_LOG_LEVEL says otherwise.
      setupFiles: ['<rootDir>/test/harness/quiet-runtime.ts'],
    },
  ],
};
