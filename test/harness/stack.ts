/** Helpers that give a test file the real services started by global-setup.ts. */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import type { DeliveryConfig } from '../../activities';
import { createPrisma, type PrismaClient } from '../../prisma/client';
import { startTimeSkippingServer } from '../../toolchain/temporal-server';
import { createCampaignWorker } from '../../worker/worker';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (global-setup.ts)`);
  return value;
}

export const testDatabaseUrl = () => required('TEST_DATABASE_URL');
export const testTemporalAddress = () => required('TEST_TEMPORAL_ADDRESS');

export function testPrisma(): PrismaClient {
  return createPrisma(testDatabaseUrl());
}

/** A task queue of its own per test file, so files sharing the dev server never steal work. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/** Runs the real campaign worker (prebuilt bundle, real activities) until `stop()`. */
export async function runTestWorker(options: {
  connection: NativeConnection;
  taskQueue: string;
  prisma: PrismaClient;
  namespace?: string;
  delivery?: Partial<DeliveryConfig>;
  /** How long a graceful shutdown lets activities run before cancelling them (default 1 s here). */
  shutdownGraceTime?: string;
  /** The sticky cache size (the worker's default otherwise). */
  maxCachedWorkflows?: number;
}): Promise<RunningWorker> {
  const pool = new Pool({ connectionString: testDatabaseUrl(), max: 5 });
  pool.on('error', () => undefined); // idle connections closed when the harness stops PostgreSQL
  const worker = await createCampaignWorker({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    prisma: options.prisma,
    pool,
    // Test receivers listen on 127.0.0.1, which the send-time SSRF guard refuses unless allowed.
    delivery: { webhookSecret: 'test-secret', webhookAllowPrivate: true, ...options.delivery },
    shutdownGraceTime: options.shutdownGraceTime ?? '1s',
    ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
    workflowBundle: { codePath: required('TEST_WORKFLOW_BUNDLE') },
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await pool.end();
    },
  };
}

export interface DevStack {
  connection: Connection;
  client: Client;
  prisma: PrismaClient;
  /** A pg pool on the test database (the API's trigger hot path uses one). */
  pool: Pool;
  taskQueue: string;
  stop(): Promise<void>;
}

/** Connects to the harness's dev server and runs a real worker on a task queue of its own. */
export async function startDevStack(prefix: string, delivery?: Partial<DeliveryConfig>): Promise<DevStack> {
  const taskQueue = uniqueTaskQueue(prefix);
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const nativeConnection = await NativeConnection.connect({ address: testTemporalAddress() });
  const prisma = testPrisma();
  const worker = await runTestWorker({ connection: nativeConnection, taskQueue, prisma, delivery });
  const pool = new Pool({ connectionString: testDatabaseUrl(), max: 10 });
  pool.on('error', () => undefined); // idle connections closed when the harness stops PostgreSQL
  return {
    connection,
    client: new Client({ connection }),
    prisma,
    pool,
    taskQueue,
    async stop() {
      await worker.stop();
      await pool.end();
      await nativeConnection.close();
      await connection.close();
      await prisma.$disconnect();
    },
  };
}

export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  prisma: PrismaClient;
  taskQueue: string;
  stop(): Promise<void>;
}

/** A time-skipping test server of its own, with a real worker on the harness's PostgreSQL. */
export async function startTimeSkippingStack(prefix: string): Promise<TimeSkippingStack> {
  const taskQueue = uniqueTaskQueue(prefix);
  const env = await startTimeSkippingServer();
  const prisma = testPrisma();
  const worker = await runTestWorker({ connection: env.nativeConnection, taskQueue, prisma });
  return {
    env,
    prisma,
    taskQueue,
    async stop() {
      await worker.stop();
      await env.teardown();
      await prisma.$disconnect();
    },
  };
}
