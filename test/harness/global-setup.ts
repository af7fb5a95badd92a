/**
 * Starts what the integration tests need, once per `npm test`: a throw-away embedded PostgreSQL
 * (migrated), the Temporal dev server, the time-skipping test server binary, and one workflow
 * bundle. Test files find them through TEST_* environment variables.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { migrate } from '../../prisma/migrate';
import { startEmbeddedPostgres } from '../../toolchain/postgres';
import { startDevServer } from '../../toolchain/temporal-server';
import { resolveTestServer } from '../../toolchain/test-server';
import { say } from '../../toolchain/common';

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const [postgres, devServer, testServer, bundle] = await Promise.all([
    startEmbeddedPostgres({}),
    startDevServer(),
    resolveTestServer(),
    bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    }),
  ]);
  await migrate(postgres.url);
  const dir = mkdtempSync(path.join(tmpdir(), 'campaign-test-'));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  process.env.TEST_DATABASE_URL = postgres.url;
  process.env.TEST_TEMPORAL_ADDRESS = devServer.address;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  if (testServer.kind === 'path') process.env.TEMPORAL_TEST_SERVER_PATH = testServer.path;
  (globalThis as Record<string, unknown>).__campaignTestInfra = { postgres, devServer, dir };
  say(`test infrastructure ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
