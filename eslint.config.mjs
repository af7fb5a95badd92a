// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Workflow code: bundled into Temporal's sandbox (see the fence below). */
const WORKFLOW_CODE = ['workflows/**/*.ts', 'domain/**/*.ts', 'triggers/dispatcher.ts', 'delivery/run.ts'];

/** The database drivers: imported at run time by store modules only. */
const DATABASE_MODULES = ['pg', 'pg-copy-streams', '@prisma/client', '@prisma/adapter-pg'];
const STORE_ONLY =
  'Only store modules (store.ts, store/), readmodel/ and prisma/ run SQL: move the query into a store.';

export default tseslint.config(
  { ignores: ['node_modules/', 'prisma/generated/', '.data/', 'coverage/', 'console/dist/', 'dist/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        require: 'readonly',
        module: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code and the domain it bundles run in Temporal's deterministic sandbox: no Node
    // built-ins, no I/O. A feature's workflow code (the trigger dispatcher, the run child workflow)
    // sits in its feature folder, inside this fence; workflows/index.ts stays the one bundle entry.
    files: WORKFLOW_CODE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net'],
              message: 'Workflow code must be deterministic: no Node built-ins.',
            },
            {
              group: [
                '@prisma/*',
                'pg',
                'pino',
                'express',
                '**/prisma/*',
                '**/api/*',
                '**/worker/*',
                '**/runtime/*',
                '**/readmodel/*',
                '**/store',
                '**/store/*',
                '**/http/*',
              ],
              message: 'Workflow code must not do I/O.',
            },
          ],
        },
      ],
    },
  },
  {
    // One store per table: only the store modules (a feature's store.ts or store/), readmodel/ and
    // prisma/ run SQL, so only they import pg or Prisma at run time. Everything else receives a
    // pool or a client and hands it to a store (type imports stay allowed for that).
    files: ['**/*.ts', '**/*.tsx'],
    ignores: [
      '**/store.ts',
      '**/store/**',
      'readmodel/**',
      'prisma/**',
      'toolchain/**',
      'test/**',
      // Process entry points: they create the pools and clients.
      'api/main.ts',
      'worker/main.ts',
      'runtime/pools.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: DATABASE_MODULES.map((name) => ({ name, message: STORE_ONLY, allowTypeImports: true })),
          patterns: [
            {
              group: ['**/prisma/client', '**/prisma/generated/*'],
              message: STORE_ONLY,
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // Size by rule, not by habit: a file holds one concern, a function one step. Blank lines and
    // comments do not count.
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Exceptions, each for a reason that splitting would not serve:
    // - a factory whose closure is the module (activities, routes or use cases sharing their deps);
    // - `decide`, one switch over the Command union that reads best whole;
    // - a Preact component whose JSX is its one concern;
    // - a command-line main that reads top to bottom.
    files: [
      'delivery/activities.ts',
      'triggers/activities.ts',
      'triggers/http/routes.ts',
      'triggers/http/use-cases.ts',
      'domain/lifecycle.ts',
      'console/src/**/*.tsx',
      'toolchain/fuzz.ts',
    ],
    rules: { 'max-lines-per-function': ['error', { max: 220, skipBlankLines: true, skipComments: true }] },
  },
  {
    // A suite's `describe` callback is a list of tests sharing one stack, not a function doing one
    // step; a suite file is bounded more loosely (suites split by resource as they grow).
    files: ['test/**/*.ts'],
    rules: {
      'max-lines-per-function': 'off',
      'max-lines': ['error', { max: 800, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['toolchain/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
