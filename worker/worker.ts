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
  /**
   * How many campaigns the sticky cache keeps in memory (default `DEFAULT_MAX_CACHED_WORKFLOWS`; 0
   * turns the cache off). A campaign out of the cache is replayed from its history on its next task.
   */
  maxCachedWorkflows?: number;
  /**
   * Activity and local activity slots (defaults `DEFAULT_MAX_ACTIVITIES`, `DEFAULT_MAX_LOCAL_ACTIVITIES`):
   * the pool passed in must be sized from them (`workerPoolSize` in runtime/pools.ts).
   */
  maxActivities?: number;
  maxLocalActivities?: number;
  /** A prebuilt workflow bundle (tests build one once); otherwise ../workflows is bundled. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** See `CampaignWorkerDeps.shutdownGraceTime` and WORKER_SHUTDOWN_GRACE_TIME in docs/configuration.md. */
export const DEFAULT_SHUTDOWN_GRACE_TIME = '10s';

/**
 * The sticky cache size: see WORKER_MAX_CACHED_WORKFLOWS in docs/deployment.md (worker memory)
 * and the memory scenario in BENCHMARKS.md. The SDK's own default grows with the V8 heap limit (about 2,300 on a 24 GiB
 * machine); each cached campaign holds in the order of 1 MiB, and evictions leave as much garbage.
 * With 10,000 live campaigns the worker process peaked at 1.5 GiB with 500, 1.2 GiB with 250 and
 * 947 MiB with 100; a campaign out of the cache answers its next command about 15–45 ms later.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 100;

/**
 * Activities at once (a trigger dispatcher or a run's delivery holds one while it drains, with a
 * PostgreSQL connection for its batch in flight), and local activities at once (projections, stops):
 * see WORKER_MAX_ACTIVITIES and WORKER_MAX_LOCAL_ACTIVITIES in docs/configuration.md. Local
 * activities have slots of their own, so busy dispatchers never hold back a command's projection.
 */
export const DEFAULT_MAX_ACTIVITIES = 10;
export const DEFAULT_MAX_LOCAL_ACTIVITIES = 10;

/** The slots a worker runs with, for sizing its pool. */
export function activitySlots(settings: { maxActivities?: number; maxLocalActivities?: number }) {
  return {
    activities: settings.maxActivities ?? DEFAULT_MAX_ACTIVITIES,
    localActivities: settings.maxLocalActivities ?? DEFAULT_MAX_LOCAL_ACTIVITIES,
  };
}

/** The SDK's default number of workflow tasks in flight at once (it may not exceed the cache). */
const MAX_CONCURRENT_WORKFLOW_TASKS = 40;

/** The worker that runs campaign workflows and their activities. */
export function createCampaignWorker(deps: CampaignWorkerDeps): Promise<Worker> {
  const cache = deps.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS;
  const slots = activitySlots(deps);
  return Worker.create({
    maxConcurrentActivityTaskExecutions: slots.activities,
    maxConcurrentLocalActivityExecutions: slots.localActivities,
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    shutdownGraceTime: deps.shutdownGraceTime ?? DEFAULT_SHUTDOWN_GRACE_TIME,
    maxCachedWorkflows: cache,
    ...(cache > 0
      ? { maxConcurrentWorkflowTaskExecutions: Math.min(MAX_CONCURRENT_WORKFLOW_TASKS, cache) }
      : {}),
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ prisma: deps.prisma, pool: deps.pool, delivery: deps.delivery }),
  });
}
