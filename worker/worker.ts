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
  /**
   * How long a graceful shutdown lets activities run before cancelling them (default
   * `DEFAULT_SHUTDOWN_GRACE_TIME`). A cancelled delivery still commits its batch in flight, then fails
   * its attempt so the run resumes on another worker.
   */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** A prebuilt workflow bundle (tests build one once); otherwise ../workflows is bundled. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** See `CampaignWorkerDeps.shutdownGraceTime` and WORKER_SHUTDOWN_GRACE_TIME in the README. */
export const DEFAULT_SHUTDOWN_GRACE_TIME = '10s';

/** The worker that runs campaign workflows and their activities. */
export function createCampaignWorker(deps: CampaignWorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    shutdownGraceTime: deps.shutdownGraceTime ?? DEFAULT_SHUTDOWN_GRACE_TIME,
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ prisma: deps.prisma, pool: deps.pool, delivery: deps.delivery }),
  });
}
