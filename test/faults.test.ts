/**
 * Faults injected into a run in flight, on real services: the worker is the production entry point
 * (`worker/main.ts`) in a process of its own, receivers are real HTTP servers, and the Temporal dev
 * server and PostgreSQL that get restarted are dedicated to their test. Every scenario ends with
 * figures that must add up (audience = sent + excluded, nothing lost, nothing duplicated), read both
 * from the `messages` table and from what the receiver got.
 *
 * Each fault is injected on observable progress (receiver hits, message rows), never after a fixed
 * delay, and every wait is bounded.
 */
import { appendFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import {
  createAudience,
  runFinished,
  sentCount,
  startCampaign,
  summarise,
  until,
  type RunSummary,
} from './harness/campaigns';
import { startWorkerProcess, type WorkerProcess } from './harness/processes';
import { faultSuite } from './harness/fault-suite';
import { recipientOf, startWebhookReceiver, type WebhookReceiver } from './harness/receivers';
import {
  startRestartableDevServer,
  startRestartablePostgres,
  type RestartableService,
} from './harness/services';
import { testDatabaseUrl, testTemporalAddress, uniqueTaskQueue } from './harness/stack';

/** `FAULT_REPORT=<file>` appends each scenario's measured figures there (for docs/architecture.md). */
function report(scenario: string, summary: RunSummary, extra: Record<string, unknown> = {}): void {
  const file = process.env.FAULT_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ scenario, ...summary, ...extra })}\n`);
}

/** A complete run with every recipient of `audience` sent exactly once. */
const allSentOnce = (audience: number, extra: Partial<RunSummary> = {}): RunSummary => ({
  audience,
  sent: audience,
  excluded: 0,
  lost: 0,
  duplicated: 0,
  run: 'completed',
  campaign: 'completed',
  ...extra,
});

describe('faults during a run', () => {
  const suite = faultSuite();
  const { cleanups } = suite;
  let pool: Pool;

  beforeAll(() => {
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 3 });
  });

  afterAll(() => pool?.end());

  /** A receiver closed after the test. */
  async function receiver(delayMs?: number): Promise<WebhookReceiver> {
    const r = await startWebhookReceiver({ delayMs });
    cleanups.push(() => r.close());
    return r;
  }

  /** A worker process on the shared services (unless told otherwise), on a task queue of its own. */
  function worker(
    taskQueue: string,
    services: { temporalAddress?: string; databaseUrl?: string; env?: Record<string, string> } = {},
  ): WorkerProcess {
    return startWorkerProcess({
      temporalAddress: services.temporalAddress ?? testTemporalAddress(),
      databaseUrl: services.databaseUrl ?? testDatabaseUrl(),
      taskQueue,
      env: services.env,
    });
  }

  it('a receiver that answers after 3 s gets each Idempotency-Key of a 200-recipient run exactly once', async () => {
    // Batches of 50 at 10 requests at a time take 15 s against this receiver: longer than the
    // delivery activity's 10 s heartbeat timeout.
    const hook = await receiver(3000);
    const taskQueue = uniqueTaskQueue('fault-slow');
    const w = worker(taskQueue);
    const { ids, audienceId } = await createAudience(pool, 200);
    const campaign = await startCampaign(suite.client, taskQueue, { audienceId, webhookUrl: hook.url });
    await until('the run finishes', () => runFinished(pool, campaign), 120_000, w.output).catch(
      () => undefined, // the figures below say what went wrong
    );
    await until('the receiver has answered everything', () => hook.inFlight() === 0, 10_000);
    const summary = await summarise(pool, campaign, ids, hook);
    report('slow receiver (3 s), 200 recipients', summary);
    expect({ ...summary, duplicateKeys: hook.duplicates().length }).toEqual({
      ...allSentOnce(200, { received: 200 }),
      duplicateKeys: 0,
    });
    expect(new Set([...hook.hits.keys()].map(recipientOf))).toEqual(new Set(ids));
  }, 160_000);

  it('a worker stopped gracefully (SIGTERM) mid-run, then a new worker: every recipient once, none dropped', async () => {
    const hook = await receiver();
    const taskQueue = uniqueTaskQueue('fault-sigterm');
    // A short grace time, so the shutdown cuts the run (12 s at 25/s) rather than letting it finish.
    const first = worker(taskQueue, { env: { WORKER_SHUTDOWN_GRACE_TIME: '1s' } });
    const { ids, audienceId } = await createAudience(pool, 300);
    const campaign = await startCampaign(suite.client, taskQueue, {
      audienceId,
      webhookUrl: hook.url,
      throttle: 25,
    });
    await until('75 requests received', () => hook.received.length >= 75, 60_000, first.output);
    const exit = await first.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null }); // a graceful exit, not a kill
    const sentAtStop = await sentCount(pool, campaign.id);
    expect(sentAtStop).toBeLessThan(300); // the fault hit mid-run
    const second = worker(taskQueue);
    await until('the run finishes', () => runFinished(pool, campaign), 60_000, second.output);
    const summary = await summarise(pool, campaign, ids, hook);
    report('worker SIGTERM mid-run, new worker', summary, { sentAtStop });
    expect(summary).toEqual(allSentOnce(300, { received: 300 }));
  });

  it('the Temporal dev server restarted mid-run: the worker reconnects, the run finishes, each recipient once', async () => {
    const temporal: RestartableService = await startRestartableDevServer();
    cleanups.push(() => temporal.stop());
    const ownConnection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => ownConnection.close());
    const ownClient = new Client({ connection: ownConnection });
    const hook = await receiver();
    const taskQueue = uniqueTaskQueue('fault-temporal');
    const w = worker(taskQueue, { temporalAddress: temporal.address });
    const { ids, audienceId } = await createAudience(pool, 300);
    const campaign = await startCampaign(ownClient, taskQueue, {
      audienceId,
      webhookUrl: hook.url,
      throttle: 20,
    });
    await until('60 requests received', () => hook.received.length >= 60, 60_000, w.output);
    await temporal.restart();
    const sentAtRestart = await sentCount(pool, campaign.id);
    expect(sentAtRestart).toBeLessThan(300);
    await until('the run finishes', () => runFinished(pool, campaign), 90_000, w.output);
    expect(w.running()).toBe(true); // the same worker process, reconnected
    const summary = await summarise(pool, campaign, ids, hook);
    report('Temporal dev server restarted mid-run', summary, { sentAtRestart });
    expect(summary).toEqual(allSentOnce(300, { received: 300 }));
  });

  it('PostgreSQL restarted mid-run: the activity retries absorb the outage, the run finishes, each recipient once', async () => {
    const postgres: RestartableService = await startRestartablePostgres();
    cleanups.push(() => postgres.stop());
    const ownPool = new Pool({ connectionString: postgres.address, max: 2 });
    ownPool.on('error', () => undefined); // idle connections closed by the restart
    cleanups.push(() => ownPool.end());
    const taskQueue = uniqueTaskQueue('fault-postgres');
    const w = worker(taskQueue, { databaseUrl: postgres.address });
    const { ids, audienceId } = await createAudience(ownPool, 3000);
    // The outbox: a message is its row, so the table is what the receiver got.
    const campaign = await startCampaign(suite.client, taskQueue, { audienceId, throttle: 200 });
    await until(
      '600 messages sent',
      async () => (await sentCount(ownPool, campaign.id)) >= 600,
      60_000,
      w.output,
    );
    await postgres.restart();
    const sentAtRestart = await sentCount(ownPool, campaign.id);
    expect(sentAtRestart).toBeLessThan(3000);
    await until('the run finishes', () => runFinished(ownPool, campaign), 90_000, w.output);
    const summary = await summarise(ownPool, campaign, ids);
    report('PostgreSQL restarted mid-run (outbox)', summary, { sentAtRestart });
    expect(summary).toEqual(allSentOnce(3000));
  });

  it('a profile that unsubscribes mid-run receives nothing after: recorded excluded, reason unsubscribed', async () => {
    const hook = await receiver();
    const taskQueue = uniqueTaskQueue('fault-consent');
    const w = worker(taskQueue);
    const { ids, audienceId } = await createAudience(pool, 100);
    const campaign = await startCampaign(suite.client, taskQueue, {
      audienceId,
      webhookUrl: hook.url,
      throttle: 10,
    });
    const last = ids[ids.length - 1]; // recipients go in id order: the last one is sent to last
    await until('20 requests received', () => hook.received.length >= 20, 60_000, w.output);
    await pool.query(`UPDATE profiles SET subscribed = false, updated_at = now() WHERE id = $1`, [last]);
    const unsubscribedAt = Date.now();
    const before = await pool.query(`SELECT 1 FROM messages WHERE campaign_id = $1 AND profile_id = $2`, [
      campaign.id,
      last,
    ]);
    expect(before.rows).toEqual([]); // still pending when it unsubscribed
    await until('the run finishes', () => runFinished(pool, campaign), 60_000, w.output);
    const lastKey = `${campaign.id}:1:${last}`;
    expect(hook.received.filter((r) => r.key === lastKey && r.at >= unsubscribedAt)).toEqual([]);
    const { rows } = await pool.query(
      `SELECT status, reason FROM messages WHERE campaign_id = $1 AND profile_id = $2`,
      [campaign.id, last],
    );
    expect(rows).toEqual([{ status: 'excluded', reason: 'unsubscribed' }]);
    const summary = await summarise(pool, campaign, ids, hook);
    report('profile unsubscribes mid-run', summary);
    expect(summary).toEqual(allSentOnce(100, { sent: 99, excluded: 1, received: 99 }));
  });
});
