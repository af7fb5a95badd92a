import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { PrismaClient } from '../prisma/client';

export interface CampaignWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  prisma: PrismaClient;
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
    activities: createActivities(deps.prisma),
  });
}
