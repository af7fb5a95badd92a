/**
 * Starts what the integration tests need, once per `npm test`: a throw-away embedded PostgreSQL
 * (migrated), a Temporal server, the time-skipping test server binary, and one workflow bundle.
 * Test files find them through TEST_* environment variables.
 *
 * TEST_TEMPORAL_TARGET picks the Temporal server: `dev` (default) the CLI dev server on SQLite;
 * `cluster` the production-shaped profile, the real Temporal server with its persistence and SQL
 * visibility on the same PostgreSQL (toolchain/temporal-cluster.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrate } from '../../prisma/migrate';
import { startEmbeddedPostgres, type LocalPostgres } from '../../toolchain/postgres';
import { startTemporalCluster } from '../../toolchain/temporal-cluster';
import { startDevServer } from '../../toolchain/temporal-server';
import { resolveTestServer } from '../../toolchain/test-server';
import { writeWorkflowBundle } from '../../toolchain/workflow-bundle';
import { SetupError, say } from '../../toolchain/common';

/** What global-teardown.ts stops. */
export interface TestInfra {
  postgres: LocalPostgres;
  temporal: TemporalTarget;
  dir: string;
}

/** What `stop()` ends, and the frontend's address. */
interface TemporalTarget {
  address: string;
  stop(): Promise<void>;
}

function temporalTarget(): 'dev' | 'cluster' {
  const target = process.env.TEST_TEMPORAL_TARGET ?? 'dev';
  if (target === 'dev' || target === 'cluster') return target;
  throw new SetupError(`TEST_TEMPORAL_TARGET must be dev or cluster, got "${target}".`);
}

async function startTemporal(target: 'dev' | 'cluster', postgres: Promise<LocalPostgres>, dir: string) {
  if (target === 'dev') {
    const devServer = await startDevServer();
    return { address: devServer.address, stop: () => devServer.teardown() };
  }
  return startTemporalCluster({ databaseUrl: (await postgres).url, dir });
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const target = temporalTarget();
  const dir = mkdtempSync(path.join(tmpdir(), 'campaign-test-'));
  const startingPostgres = startEmbeddedPostgres({});
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  const [postgres, temporal, testServer] = await Promise.all([
    startingPostgres,
    startTemporal(target, startingPostgres, dir),
    resolveTestServer(),
    writeWorkflowBundle(bundlePath),
  ]);
  await migrate(postgres.url);

  process.env.TEST_DATABASE_URL = postgres.url;
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  if (testServer.kind === 'path') process.env.TEMPORAL_TEST_SERVER_PATH = testServer.path;
  const infra: TestInfra = { postgres, temporal, dir };
  (globalThis as Record<string, unknown>).__campaignTestInfra = infra;
  say(`test infrastructure (Temporal: ${target}) ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
