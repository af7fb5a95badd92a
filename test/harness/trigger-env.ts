/**
 * What the wedge and shutdown suites share: an API (the real Express app) on the test database with
 * keys per role, a worker process (`worker/main.ts`) that polls, a live api_triggered transactional
 * webhook campaign, and trigger calls. `cleanups` collects what each test must end.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Pool } from 'pg';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createApiKey } from '../../api/auth';
import { createPrisma } from '../../prisma/client';
import { until } from './campaigns';
import { startWorkerProcess, type WorkerProcess } from './processes';
import { startWebhookReceiver, type WebhookReceiver } from './receivers';
import { testDatabaseUrl, testTemporalAddress, uniqueTaskQueue } from './stack';

export type { Cleanups } from './fault-suite';
import type { Cleanups } from './fault-suite';
type Role = 'editor' | 'publisher' | 'trigger';

export interface TriggerEnv {
  pool: Pool;
  /** The app, or the URL of an API process. */
  app: ReturnType<typeof createApp> | string;
  auth: Record<Role, string>;
  triggerKeyId: string;
  taskQueue: string;
}

export async function triggerEnv(client: Client, cleanups: Cleanups, prefix: string): Promise<TriggerEnv> {
  const pool = new Pool({ connectionString: testDatabaseUrl(), max: 10, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  const prisma = createPrisma(testDatabaseUrl());
  cleanups.push(
    () => pool.end(),
    () => prisma.$disconnect(),
  );
  const taskQueue = uniqueTaskQueue(prefix);
  const app = createApp({
    client,
    prisma,
    pool,
    taskQueue,
    logger: pino({ level: 'silent' }),
    webhookAllowPrivate: true,
  });
  const auth = {} as TriggerEnv['auth'];
  let triggerKeyId = '';
  for (const role of ['editor', 'publisher', 'trigger'] as const) {
    const made = await createApiKey(prisma, `${role}-${randomUUID().slice(0, 6)}`, role);
    auth[role] = `Bearer ${made.key}`;
    if (role === 'trigger') triggerKeyId = made.row.id;
  }
  return { pool, app, auth, triggerKeyId, taskQueue };
}

export async function receiver(
  cleanups: Cleanups,
  options: Parameters<typeof startWebhookReceiver>[0] = {},
): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(options);
  cleanups.push(() => r.close());
  return r;
}

/** A worker process on the env's task queue, once it polls (a start under load can outlast the API's 10 s wait). */
export async function workerProcess(e: TriggerEnv, env?: Record<string, string>): Promise<WorkerProcess> {
  const w = startWorkerProcess({
    temporalAddress: testTemporalAddress(),
    databaseUrl: testDatabaseUrl(),
    taskQueue: e.taskQueue,
    env,
  });
  await until('the worker polls', () => w.output().includes('worker polling'), 60_000, w.output);
  return w;
}

/**
 * A live api_triggered transactional webhook campaign sending to `hook` (its body a template of the
 * call's context, if given).
 */
export async function liveCampaign(
  e: { app: TriggerEnv['app']; auth: Record<'editor' | 'publisher', string> },
  hook: WebhookReceiver,
  options: { name?: string; body?: string } = {},
): Promise<string> {
  const post = (path: string, body: object, role: 'editor' | 'publisher') =>
    request(e.app).post(path).set('Authorization', e.auth[role]).send(body);
  const created = await post(
    '/v1/campaigns',
    {
      name: options.name ?? 'wedge',
      type: 'api_triggered',
      category: 'transactional',
      channel: 'webhook',
      content: { url: hook.url, body: options.body ?? 'hi' },
    },
    'editor',
  );
  expect(created.status).toBe(201);
  expect((await post(`/v1/campaigns/${created.body.id}/activate`, {}, 'publisher')).status).toBe(200);
  return created.body.id as string;
}

/** A trigger call for `profiles`, with an Idempotency-Key if given. */
export function trigger(e: TriggerEnv, campaignId: string, profiles: string[], idempotencyKey?: string) {
  const req = request(e.app).post(`/v1/campaigns/${campaignId}/trigger`).set('Authorization', e.auth.trigger);
  if (idempotencyKey) req.set('Idempotency-Key', idempotencyKey);
  return req.send({ recipients: profiles.map((profileId) => ({ profileId })) });
}

/**
 * Holds the execution's row share-locked in a transaction of its own: a batch (which share-locks it
 * too when it takes its messages) sends, then cannot record its outcomes (an UPDATE of the row).
 */
export async function lockExecution(e: TriggerEnv, cleanups: Cleanups, executionId: string) {
  const holder = await e.pool.connect();
  cleanups.push(async () => holder.release());
  await holder.query('BEGIN');
  await holder.query(`SELECT 1 FROM executions WHERE id = $1 FOR SHARE`, [executionId]);
  return { release: () => holder.query('ROLLBACK') };
}
