/**
 * A complete local stack for benchmark scripts: throw-away embedded PostgreSQL (migrated), the
 * Temporal dev server, and the real campaign worker. Benchmarks print figures; they are not tests.
 */
import { Client } from '@temporalio/client';
import { Pool } from 'pg';
import { migrate } from '../../prisma/migrate';
import { createPrisma } from '../../prisma/client';
import { startEmbeddedPostgres } from '../../toolchain/postgres';
import { startDevServer } from '../../toolchain/temporal-server';
import { installTemporalRuntime } from '../../worker/logger';
import { createCampaignWorker } from '../../worker/worker';

export async function startBenchStack(taskQueue = 'bench') {
  installTemporalRuntime();
  const [postgres, temporal] = await Promise.all([startEmbeddedPostgres({}), startDevServer()]);
  await migrate(postgres.url);
  const prisma = createPrisma(postgres.url);
  const pool = new Pool({ connectionString: postgres.url, max: 10 });
  const worker = await createCampaignWorker({
    connection: temporal.nativeConnection,
    namespace: 'default',
    taskQueue,
    prisma,
    pool,
    delivery: {
      webhookSecret: 'bench',
      ...(process.env.BENCH_LANES ? { outboxLanes: Number(process.env.BENCH_LANES) } : {}),
      ...(process.env.BENCH_BATCH ? { outboxBatch: Number(process.env.BENCH_BATCH) } : {}),
    },
  });
  const running = worker.run();
  const client: Client = temporal.client;
  return {
    client,
    prisma,
    taskQueue,
    databaseUrl: postgres.url,
    pool,
    async stop() {
      worker.shutdown();
      await running;
      await prisma.$disconnect();
      await pool.end();
      await temporal.teardown();
      await postgres.stop();
    },
  };
}

/** Percentile of already-sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
