import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities, type DeliveryConfig } from '../activities';
import type { PrismaClient } from '../prisma/client';

export interface CampaignWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  prisma: PrismaClient;
  pool: Pool;
  delivery: DeliveryConfig;
  /** A prebuilt workflow bundle (tests build one once); otherwise ../workflows is bundled. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The worker that runs campaign workflows and their activities. */
export function createCampaignWorker(deps: CampaignWorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ prisma: deps.prisma, pool: deps.pool, delivery: deps.delivery }),
  });
}
