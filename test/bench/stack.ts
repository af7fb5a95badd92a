/**
 * The stack a benchmark runs on: the embedded one (throw-away PostgreSQL, Temporal dev server), the
 * cluster profile with BENCH_TARGET=cluster (the real Temporal server on that PostgreSQL), or
 * external services when TEMPORAL_ADDRESS and DATABASE_URL are set; plus the real worker and the
 * API on a free port. Benchmarks print figures; they are not tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createApiKey } from '../../api/auth';
import { createPrisma } from '../../prisma/client';
import { migrate } from '../../prisma/migrate';
import { startEmbeddedPostgres } from '../../toolchain/postgres';
import { resolveTemporalCli } from '../../toolchain/temporal-cli';
import { startTemporalCluster } from '../../toolchain/temporal-cluster';
import { startDevServer } from '../../toolchain/temporal-server';
import { installTemporalRuntime } from '../../runtime/logger';
import { API_POOL_SIZE, createPool, workerPoolSize } from '../../runtime/pools';
import { activitySlots, createCampaignWorker } from '../../worker/worker';
import type { BenchContext } from './scenarios';
import { testTracking } from '../harness/api';

export async function startBenchStack(
  taskQueue = `bench-${Date.now()}`,
  workflowBundle?: Parameters<typeof createCampaignWorker>[0]['workflowBundle'],
) {
  installTemporalRuntime();
  const external = process.env.TEMPORAL_ADDRESS && process.env.DATABASE_URL;
  const cleanups: Array<() => Promise<void>> = [];
  let databaseUrl: string;
  let address: string;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  if (external) {
    databaseUrl = process.env.DATABASE_URL!;
    address = process.env.TEMPORAL_ADDRESS!;
    connection = await Connection.connect({ address });
    nativeConnection = await NativeConnection.connect({ address });
    cleanups.push(
      () => connection.close(),
      () => nativeConnection.close(),
    );
  } else if (process.env.BENCH_TARGET === 'cluster') {
    // The production-shaped profile: the real Temporal server on the same (embedded) PostgreSQL.
    const postgres = await startEmbeddedPostgres({});
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-cluster-'));
    const temporal = await startTemporalCluster({ databaseUrl: postgres.url, dir });
    cleanups.push(
      async () => rmSync(dir, { recursive: true, force: true }),
      () => postgres.stop(),
      () => temporal.stop(),
    );
    databaseUrl = postgres.url;
    address = temporal.address;
    connection = await Connection.connect({ address });
    nativeConnection = await NativeConnection.connect({ address });
    cleanups.push(
      () => connection.close(),
      () => nativeConnection.close(),
    );
  } else {
    const [postgres, temporal] = await Promise.all([startEmbeddedPostgres({}), startDevServer()]);
    cleanups.push(
      () => postgres.stop(),
      () => temporal.teardown(),
    );
    databaseUrl = postgres.url;
    address = temporal.address;
    connection = temporal.connection;
    nativeConnection = temporal.nativeConnection;
  }
  await migrate(databaseUrl);
  const prisma = createPrisma(databaseUrl);
  // Sized from the worker's slots, as `npm start` does (runtime/pools.ts).
  const pool = createPool(databaseUrl, workerPoolSize(activitySlots({})), { worker: true });
  pool.on('error', () => undefined); // idle connections closed at shutdown
  const worker = await createCampaignWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    prisma,
    pool,
    delivery: { webhookSecret: 'bench' },
    ...(workflowBundle ? { workflowBundle } : {}),
  });
  const running = worker.run();
  const client = new Client({ connection });
  // The API's own pool, as `npm run api` has (the worker keeps `pool`).
  const apiPool = createPool(databaseUrl, API_POOL_SIZE);
  apiPool.on('error', () => undefined);
  const app = createApp({
    client,
    prisma,
    pool: apiPool,
    taskQueue,
    logger: pino({ level: 'silent' }),
    tracking: testTracking,
    // Every pixel hit of the tracking bench comes from this one address: measure the pipeline, not
    // the per-address limit (TRACKING_RATE_LIMIT).
    trackingRateLimit: 1_000_000,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { key } = await createApiKey(prisma, `bench-${Date.now()}`, 'admin');
  const cli = await resolveTemporalCli();
  const context: BenchContext = {
    client,
    prisma,
    pool,
    taskQueue,
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiKey: key,
    ...(cli.kind === 'path' ? { temporalCli: { path: cli.path, address } } : {}),
  };
  return {
    context,
    external: Boolean(external),
    /** Where a worker in a process of its own connects (the memory scenario). */
    temporalAddress: address,
    databaseUrl,
    async stop() {
      server.close();
      worker.shutdown();
      await running;
      await prisma.$disconnect();
      await pool.end();
      await apiPool.end();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}
