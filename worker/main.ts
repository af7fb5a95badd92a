/**
 * `npm run worker`: the worker alone, against external services (TEMPORAL_ADDRESS, DATABASE_URL).
 * Migrations are applied first, so a fresh database works.
 */
import { migrate } from '../prisma/migrate';
import { createPrisma } from '../prisma/client';
import { Client } from '@temporalio/client';
import {
  connectClient,
  connectWorker,
  databaseUrl,
  deliveryConfig,
  temporalSettings,
  workerSettings,
} from '../runtime/config';
import { installTemporalRuntime, logger } from '../runtime/logger';
import { runUntilSignal } from '../runtime/shutdown';
import { createPool, workerPoolSize } from '../runtime/pools';
import { startWakeSweep } from './wake-sweep';
import { activitySlots, createCampaignWorker } from './worker';

export async function startWorker(env: NodeJS.ProcessEnv = process.env) {
  const delivery = deliveryConfig(env);
  const settings = temporalSettings(env);
  const url = databaseUrl(env);
  await migrate(url);
  const prisma = createPrisma(url);
  const options = workerSettings(env);
  // One connection per activity slot (runtime/pools.ts); an idle connection closed by the server
  // (restart, shutdown) is logged, not fatal.
  const pool = createPool(url, workerPoolSize(activitySlots(options)), { worker: true });
  const connection = await connectWorker(settings);
  const worker = await createCampaignWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    prisma,
    pool,
    delivery,
    ...options,
  });
  const running = worker.run();
  // Wakes dispatchers whose wake-up signal was lost (./wake-sweep).
  const clientConnection = await connectClient(settings);
  const sweep = startWakeSweep(
    pool,
    new Client({ connection: clientConnection, namespace: settings.namespace }),
  );
  logger.info({ taskQueue: settings.taskQueue, address: settings.address }, 'worker polling');
  return {
    running,
    async stop() {
      await sweep.stop();
      worker.shutdown();
      await running;
      await clientConnection.close();
      await connection.close();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

if (require.main === module) {
  void runUntilSignal('worker', async () => {
    installTemporalRuntime();
    return startWorker();
  });
}
