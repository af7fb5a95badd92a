#!/usr/bin/env node
// Generates the Prisma client (prisma/generated) without Prisma's native schema engine, which this
// machine cannot download: `prisma generate` only needs PRISMA_SCHEMA_ENGINE_BINARY to name an
// existing file. Runs on `npm install` (postinstall) and as `npm run prisma:generate`.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
