/**
 * The fault suite's scenarios for a service that must never wedge (issue 19, items 1 and 9), on real
 * services: the API is the real Express app, the worker is `worker/main.ts` in a process of its own
 * (with its real pool and activity slots), the receiver a real HTTP server counting each
 * `Idempotency-Key`. Faults are injected on observable progress, never after a fixed delay. (The
 * bounded shutdown has its own suite, test/shutdown.test.ts.)
 */
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import request from 'supertest';
import { v5 as uuidv5 } from 'uuid';
import { createApp } from '../api/app';
import { EXECUTION_ID_NAMESPACE } from '../triggers/http/use-cases';
import { createPrisma } from '../prisma/client';
import { faultSuite } from './harness/fault-suite';
import { createAudience, until } from './harness/campaigns';
import type { WebhookReceiver } from './harness/receivers';
import { testDatabaseUrl } from './harness/stack';
import {
  liveCampaign,
  lockExecution,
  receiver,
  trigger,
  triggerEnv,
  workerProcess,
  type TriggerEnv,
} from './harness/trigger-env';

/** Messages per dispatcher batch on a network channel (triggers/activities.ts). */
const BATCH = 50;

/** `FAULT_REPORT=<file>` appends each scenario's measured figures there (as test/trigger-faults.test.ts). */
function report(scenario: string, figures: Record<string, unknown>): void {
  const file = process.env.FAULT_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ scenario, ...figures })}\n`);
}

describe('the service never wedges', () => {
  const suite = faultSuite();
  const { cleanups } = suite;

  /** Per campaign: its messages, those not delivered, and 2xx answers beyond the first per key. */
  async function figures(e: TriggerEnv, campaignIds: string[], hook: WebhookReceiver) {
    const { rows } = await e.pool.query<{ campaign_id: string; key: string; status: string }>(
      `SELECT campaign_id, execution_id || ':' || recipient AS key, status
         FROM execution_messages WHERE campaign_id = ANY($1::uuid[])`,
      [campaignIds],
    );
    const perCampaign = new Map(campaignIds.map((id) => [id, { messages: 0, lost: 0, duplicated: 0 }]));
    for (const r of rows) {
      const f = perCampaign.get(r.campaign_id)!;
      const hits = hook.delivered.get(r.key) ?? 0;
      f.messages += 1;
      if (hits === 0 || !['sent', 'delivered'].includes(r.status)) f.lost += 1;
      f.duplicated += Math.max(0, hits - 1);
    }
    return perCampaign;
  }

  it('crash and restart with 25 busy triggered campaigns and a slow receiver: all delivered, none lost, no command answers 503', async () => {
    const CAMPAIGNS = 25;
    const RECIPIENTS = 40;
    const e = await triggerEnv(suite.client, cleanups, 'wedge');
    const hook = await receiver(cleanups, { delayMs: 3000 });
    const first = await workerProcess(e);
    const { ids } = await createAudience(e.pool, RECIPIENTS);
    const campaigns: string[] = [];
    for (let i = 0; i < CAMPAIGNS; i += 5) {
      campaigns.push(...(await Promise.all(Array.from({ length: 5 }, () => liveCampaign(e, hook)))));
    }
    const triggeredAt = Date.now();
    const answers = await Promise.all(campaigns.map((id) => trigger(e, id, ids)));
    expect(answers.map((a) => a.status)).toEqual(campaigns.map(() => 202));
    // Killed once as many dispatchers as the worker runs at once (its pool, its activity slots)
    // have claimed their queues: all of them busy, the rest waiting.
    const claimed = async () =>
      (
        await e.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM campaign_triggers
            WHERE campaign_id = ANY($1::uuid[]) AND dispatch_owner IS NOT NULL`,
          [campaigns],
        )
      ).rows[0].n;
    await until(
      'ten dispatchers claimed their queues',
      async () => (await claimed()) >= 10,
      60_000,
      first.output,
    );
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const receivedAtKill = hook.received.length;
    const second = await workerProcess(e);
    const queued = async () =>
      (
        await e.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM execution_messages WHERE campaign_id = ANY($1::uuid[]) AND status = 'queued'`,
          [campaigns],
        )
      ).rows[0].n;
    await until(
      'no message queued',
      async () => (await queued()) === 0,
      150_000,
      () => {
        return `${second.output()}\nreceived ${hook.received.length}`;
      },
    );
    const settledMs = Date.now() - triggeredAt;
    const perCampaign = await figures(e, campaigns, hook);
    const all = [...perCampaign.values()];
    report('25 busy triggered campaigns, worker SIGKILLed, restarted', {
      messages: all.reduce((n, f) => n + f.messages, 0),
      lost: all.reduce((n, f) => n + f.lost, 0),
      duplicated: all.reduce((n, f) => n + f.duplicated, 0),
      receivedAtKill,
      settledMs,
    });
    for (const [id, f] of perCampaign) {
      expect({ id, messages: f.messages, lost: f.lost }).toEqual({ id, messages: RECIPIENTS, lost: 0 });
      expect(f.duplicated).toBeLessThanOrEqual(BATCH); // at most the batch in flight at the kill
    }
    // Every campaign still answers its commands (the worker's pool is not held by stuck batches).
    const renamed = await Promise.all(
      campaigns.map((id) =>
        request(e.app)
          .patch(`/v1/campaigns/${id}`)
          .set('Authorization', e.auth.editor)
          .send({ name: 'after' }),
      ),
    );
    expect(renamed.map((r) => r.status)).toEqual(campaigns.map(() => 200));
  }, 300_000);

  it('a call accepted while the dispatcher goes idle is sent without another call', async () => {
    const e = await triggerEnv(suite.client, cleanups, 'wake-race');
    const hook = await receiver(cleanups);
    const w = await workerProcess(e);
    const campaignId = await liveCampaign(e, hook);
    const { ids } = await createAudience(e.pool, 1);
    // A first call wakes the dispatcher; it sends, then lingers with the queue empty.
    expect((await trigger(e, campaignId, ids)).status).toBe(202);
    await until('the first call delivered', () => hook.delivered.size === 1, 30_000, w.output);
    // The next call is held inside its acceptance, after it locked the queue row and read the
    // dispatcher as awake: an uncommitted row with its execution id makes its INSERT wait.
    const key = `race-${randomUUID()}`;
    const executionId = uuidv5(
      `${e.triggerKeyId}:${key}:/v1/campaigns/${campaignId}/trigger`,
      EXECUTION_ID_NAMESPACE,
    );
    const holder = await e.pool.connect();
    cleanups.push(async () => holder.release());
    await holder.query('BEGIN');
    await holder.query(
      `INSERT INTO executions (id, campaign_id, version, category, status, requested_by)
       VALUES ($1, $2, 1, 'transactional', 'failed', 'race')`,
      [executionId, campaignId],
    );
    const held = trigger(e, campaignId, ids, key).then((r) => r);
    await until(
      'the call waits inside its acceptance',
      async () =>
        (
          await e.pool.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH q AS%'`,
          )
        ).rowCount! > 0,
      10_000,
    );
    // Meanwhile the dispatcher goes idle: it cleared its wake mark, or it waits for the acceptance.
    await until(
      'the dispatcher goes idle',
      async () =>
        (
          await e.pool.query(
            `SELECT 1 FROM campaign_triggers WHERE campaign_id = $1 AND wake_at IS NULL
             UNION ALL
             SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                AND query LIKE '%campaign_triggers%FOR UPDATE%'`,
            [campaignId],
          )
        ).rowCount! > 0,
      30_000,
      w.output,
    );
    await holder.query('ROLLBACK');
    const answer = await held;
    expect(answer.status).toBe(202);
    expect(answer.body.executionId).toBe(executionId);
    // No other call: the accepted message is sent all the same, at once (not left for the sweep).
    await until(
      'the held call delivered',
      () => hook.delivered.has(`${executionId}:0`),
      5_000,
      () => `${w.output()}\nreceived ${JSON.stringify(hook.received)}`,
    );
  }, 120_000);

  it('a dispatcher batch stuck for good stops heartbeating: Temporal retries the attempt', async () => {
    const e = await triggerEnv(suite.client, cleanups, 'wedge-beat');
    const hook = await receiver(cleanups, { delayMs: 200 });
    const w = await workerProcess(e, { ACTIVITY_STUCK_TIMEOUT: '2s' });
    const campaignId = await liveCampaign(e, hook);
    const { ids } = await createAudience(e.pool, 20);
    const answer = await trigger(e, campaignId, ids);
    expect(answer.status).toBe(202);
    const lock = await lockExecution(e, cleanups, answer.body.executionId);
    await until('the batch sent and is stuck on the lock', () => hook.delivered.size >= 20, 30_000, w.output);
    // No progress for 2 s: no heartbeat, so the heartbeat timeout (10 s) fails the attempt.
    const handle = suite.client.workflow.getHandle(`campaign-${campaignId}`);
    const attempt = async () => (await handle.describe()).raw.pendingActivities?.[0]?.attempt ?? 0;
    await until('a second attempt', async () => (await attempt()) >= 2, 40_000, w.output);
    await lock.release();
    await until(
      'everything recorded',
      async () =>
        (
          await e.pool.query(
            `SELECT 1 FROM execution_messages WHERE execution_id = $1 AND status = 'queued'`,
            [answer.body.executionId],
          )
        ).rowCount === 0,
      60_000,
      w.output,
    );
  }, 150_000);

  it('a call whose wake-up signal was lost (the API could not reach Temporal) is sent by the sweep', async () => {
    const e = await triggerEnv(suite.client, cleanups, 'wake-lost');
    const hook = await receiver(cleanups);
    const w = await workerProcess(e);
    const campaignId = await liveCampaign(e, hook);
    const { ids } = await createAudience(e.pool, 1);
    // An API whose Temporal is unreachable: the call is accepted (durable), its signal fails.
    const unreachable = Connection.lazy({ address: '127.0.0.1:1' });
    cleanups.push(() => unreachable.close());
    const prisma = createPrisma(testDatabaseUrl());
    cleanups.push(() => prisma.$disconnect());
    const cut = createApp({
      client: new Client({ connection: unreachable }),
      prisma,
      pool: e.pool,
      taskQueue: e.taskQueue,
      logger: pino({ level: 'silent' }),
      webhookAllowPrivate: true,
      commandTimeoutMs: 1000,
    });
    const answer = await trigger({ ...e, app: cut }, campaignId, ids);
    expect(answer.status).toBe(202);
    // No other call: the worker's sweep wakes the dispatcher.
    await until(
      'the call delivered',
      () => hook.delivered.has(`${answer.body.executionId}:0`),
      30_000,
      w.output,
    );
  }, 120_000);
});
