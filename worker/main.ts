/**
 * `npm run worker`: the worker alone, against external services (TEMPORAL_ADDRESS, DATABASE_URL).
 * Migrations are applied first, so a fresh database works.
 */
import { migrate } from '../prisma/migrate';
import { createPrisma } from '../prisma/client';
import { Pool } from 'pg';
import {
  connectWorker,
  databaseUrl,
  deliveryConfig,
  temporalSettings,
  workerSettings,
} from '../runtime/config';
import { installTemporalRuntime, logger } from '../runtime/logger';
import { runUntilSignal } from '../runtime/shutdown';
import { createCampaignWorker } from './worker';

export async function startWorker(env: NodeJS.ProcessEnv = process.env) {
  const delivery = deliveryConfig(env);
  const settings = temporalSettings(env);
  const url = databaseUrl(env);
  await migrate(url);
  const prisma = createPrisma(url);
  const pool = new Pool({ connectionString: url, max: 10 });
  // An idle connection closed by the server (restart, shutdown) must not crash the worker.
  pool.on('error', (error: Error & { code?: string }) =>
    logger.warn({ code: error.code, reason: error.message }, 'idle PostgreSQL connection closed'),
  );
  const connection = await connectWorker(settings);
  const worker = await createCampaignWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    prisma,
    pool,
    delivery,
    ...workerSettings(env),
  });
  const running = worker.run();
  logger.info({ taskQueue: settings.taskQueue, address: settings.address }, 'worker polling');
  return {
    running,
    async stop() {
      worker.shutdown();
      await running;
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
