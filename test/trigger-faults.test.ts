/**
 * Faults injected while an api_triggered transactional webhook campaign receives a stream of trigger
 * calls, on real services: the API is the real Express app, the worker is `worker/main.ts` in a
 * process of its own, the receiver is a real HTTP server counting each `Idempotency-Key`
 * (`<execution>:<recipient>`), and the PostgreSQL that gets restarted is the test's own.
 *
 * Each scenario ends with figures that must add up: every accepted (execution, recipient) delivered
 * at the receiver, no duplicate (or, for a crash, at most the batch in flight), no execution left
 * `accepted`/`in_progress`, no message left `queued`, and each `executions` row's counts equal to its
 * message rows. Faults are injected on observable progress, never after a fixed delay.
 */
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../api/app';
import { createApiKey } from '../api/auth';
import { createPrisma } from '../prisma/client';
import { faultSuite } from './harness/fault-suite';
import { liveCampaign as liveWebhookCampaign } from './harness/trigger-env';
import { createAudience, until } from './harness/campaigns';
import { startWorkerProcess, type WorkerProcess } from './harness/processes';
import { startWebhookReceiver, type WebhookReceiver } from './harness/receivers';
import { startRestartablePostgres, type RestartableService } from './harness/services';
import { testDatabaseUrl, testTemporalAddress, uniqueTaskQueue } from './harness/stack';

const CALLS = 60;
const RECIPIENTS = 5;
/** Messages per dispatcher batch on a network channel (triggers/activities.ts). */
const BATCH = 50;
/** Calls against the slow receiver (see its scenario). */
const SLOW_CALLS = 15;

/** What a stream of triggers ended with. */
interface TriggerSummary {
  calls: number;
  /** 202 answers, and the messages they accepted. */
  accepted: number;
  messages: number;
  /** Accepted messages whose key the receiver answered 2xx, at least once. */
  delivered: number;
  /** Answers 2xx beyond the first for a key. */
  duplicated: number;
  /** Accepted messages the receiver never accepted. */
  lost: number;
  /** Executions still accepted/in_progress, messages still queued, executions whose counts disagree with their rows. */
  unfinished: number;
  queued: number;
  miscounted: number;
}

/** `FAULT_REPORT=<file>` appends each scenario's measured figures there (for docs/architecture.md). */
function report(scenario: string, summary: TriggerSummary, extra: Record<string, unknown> = {}): void {
  const file = process.env.FAULT_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ scenario, ...summary, ...extra })}\n`);
}

/** The services one scenario talks to: the shared ones, or a PostgreSQL of its own. */
interface Env {
  databaseUrl: string;
  pool: Pool;
  app: ReturnType<typeof createApp>;
  auth: Record<'editor' | 'publisher' | 'trigger', string>;
  taskQueue: string;
}

describe('faults during a stream of triggers', () => {
  const suite = faultSuite();
  const { cleanups } = suite;

  async function env(prefix: string, databaseUrl = testDatabaseUrl()): Promise<Env> {
    const pool = new Pool({ connectionString: databaseUrl, max: 5 });
    pool.on('error', () => undefined); // idle connections closed by a restart
    const prisma = createPrisma(databaseUrl);
    cleanups.push(
      () => pool.end(),
      () => prisma.$disconnect(),
    );
    const taskQueue = uniqueTaskQueue(prefix);
    const app = createApp({
      client: suite.client,
      prisma,
      pool,
      taskQueue,
      logger: pino({ level: 'silent' }),
      webhookAllowPrivate: true,
    });
    const auth = {} as Env['auth'];
    for (const role of ['editor', 'publisher', 'trigger'] as const) {
      auth[role] = `Bearer ${(await createApiKey(prisma, `${role}-${randomUUID().slice(0, 6)}`, role)).key}`;
    }
    return { databaseUrl, pool, app, auth, taskQueue };
  }

  async function receiver(
    options: Parameters<typeof startWebhookReceiver>[0] = {},
  ): Promise<WebhookReceiver> {
    const r = await startWebhookReceiver(options);
    cleanups.push(() => r.close());
    return r;
  }

  function worker(e: Env, workerEnv?: Record<string, string>): WorkerProcess {
    return startWorkerProcess({
      temporalAddress: testTemporalAddress(),
      databaseUrl: e.databaseUrl,
      taskQueue: e.taskQueue,
      env: workerEnv,
    });
  }

  /** A live transactional webhook campaign sending to `hook`, and 5 profiles to trigger it for. */
  async function liveCampaign(e: Env, hook: WebhookReceiver) {
    const id = await liveWebhookCampaign(e, hook, { name: 'trigger-faults', body: 'n={{context.n}}' });
    const { ids } = await createAudience(e.pool, RECIPIENTS);
    return { id, ids };
  }

  /**
   * Sends `CALLS` trigger calls of `RECIPIENTS` recipients one after the other (a call that fails,
   * e.g. during a PostgreSQL restart, is not retried); resolves with the executions answered 202.
   */
  function stream(e: Env, campaign: { id: string; ids: string[] }, calls = CALLS) {
    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    const done = (async () => {
      for (let n = 0; n < calls; n++) {
        const res = await request(e.app)
          .post(`/v1/campaigns/${campaign.id}/trigger`)
          .set('Authorization', e.auth.trigger)
          .send({ context: { n }, recipients: campaign.ids.map((profileId) => ({ profileId })) })
          .catch(() => ({ status: 0, body: {} as Record<string, unknown> }));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 202) {
          expect(res.body.accepted).toBe(RECIPIENTS);
          accepted.push(res.body.executionId as string);
        }
      }
    })();
    return { calls, accepted, statuses, done };
  }

  /** Whether every execution of the campaign is over and no message is queued. */
  async function settled(pool: Pool, campaignId: string, executions: number): Promise<boolean> {
    const { rows } = await pool.query<{ total: number; open: number; queued: number }>(
      `SELECT (SELECT count(*)::int FROM executions WHERE campaign_id = $1) AS total,
              (SELECT count(*)::int FROM executions WHERE campaign_id = $1
                  AND status IN ('accepted', 'in_progress')) AS open,
              (SELECT count(*)::int FROM execution_messages WHERE campaign_id = $1 AND status = 'queued') AS queued`,
      [campaignId],
    );
    return rows[0].total >= executions && rows[0].open === 0 && rows[0].queued === 0;
  }

  /** The figures (see TriggerSummary), from the tables and from the receiver. */
  async function summarise(
    pool: Pool,
    campaignId: string,
    { calls, accepted }: { calls: number; accepted: string[] },
    hook: WebhookReceiver,
  ): Promise<TriggerSummary> {
    const messages = await pool.query<{ key: string; status: string }>(
      `SELECT execution_id || ':' || recipient AS key, status
         FROM execution_messages WHERE execution_id = ANY($1::uuid[])`,
      [accepted],
    );
    const state = await pool.query<{ unfinished: number; queued: number; miscounted: number }>(
      `WITH counted AS (
         SELECT execution_id,
                count(*) FILTER (WHERE status = 'sent')::int AS sent,
                count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
                count(*) FILTER (WHERE status = 'failed')::int AS failed,
                count(*) FILTER (WHERE status = 'excluded')::int AS excluded,
                count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
                count(*) FILTER (WHERE status = 'refused')::int AS refused,
                count(*) FILTER (WHERE status <> 'refused')::int AS accepted
           FROM execution_messages WHERE campaign_id = $1 GROUP BY execution_id)
       SELECT count(*) FILTER (WHERE e.status IN ('accepted', 'in_progress'))::int AS unfinished,
              (SELECT count(*)::int FROM execution_messages WHERE campaign_id = $1 AND status = 'queued') AS queued,
              count(*) FILTER (WHERE c.execution_id IS NULL OR (e.sent, e.delivered, e.failed, e.excluded,
                  e.cancelled, e.refused, e.accepted) IS DISTINCT FROM (c.sent, c.delivered, c.failed,
                  c.excluded, c.cancelled, c.refused, c.accepted))::int AS miscounted
         FROM executions e LEFT JOIN counted c ON c.execution_id = e.id
        WHERE e.campaign_id = $1`,
      [campaignId],
    );
    const keys = messages.rows.map((r) => r.key);
    const delivered = keys.filter((k) => (hook.delivered.get(k) ?? 0) > 0).length;
    const duplicated = keys.reduce((n, k) => n + Math.max(0, (hook.delivered.get(k) ?? 0) - 1), 0);
    const notSent = messages.rows.filter((r) => !['sent', 'delivered'].includes(r.status)).length;
    expect(notSent).toBe(0); // every accepted message recorded sent
    return {
      calls,
      accepted: accepted.length,
      messages: keys.length,
      delivered,
      duplicated,
      lost: keys.length - delivered,
      ...state.rows[0],
    };
  }

  /** Every 202 delivered exactly once and everything settled. */
  const allOnce = (accepted: number, extra: Partial<TriggerSummary> = {}, calls = CALLS): TriggerSummary => ({
    calls,
    accepted,
    messages: accepted * RECIPIENTS,
    delivered: accepted * RECIPIENTS,
    duplicated: 0,
    lost: 0,
    unfinished: 0,
    queued: 0,
    miscounted: 0,
    ...extra,
  });

  async function finish(
    e: Env,
    campaignId: string,
    s: ReturnType<typeof stream>,
    hook: WebhookReceiver,
    w: WorkerProcess,
    ms: number,
  ) {
    await s.done;
    await until(
      'every execution over',
      () => settled(e.pool, campaignId, s.accepted.length),
      ms,
      () =>
        `${w.output()}\nstatuses ${JSON.stringify([...s.statuses])}, received ${hook.received.length}, ` +
        `duplicate keys ${hook.duplicates().length}`,
    );
  }

  it('worker SIGKILLed mid-stream, then a new worker: the dispatcher resumes, nothing lost, at most a batch twice', async () => {
    const e = await env('tfault-kill');
    const hook = await receiver({ delayMs: 200 });
    const first = worker(e);
    const campaign = await liveCampaign(e, hook);
    const s = stream(e, campaign);
    await until('60 requests received', () => hook.received.length >= 60, 60_000, first.output);
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const receivedAtKill = hook.received.length;
    const second = worker(e);
    await finish(e, campaign.id, s, hook, second, 90_000);
    const summary = await summarise(e.pool, campaign.id, s, hook);
    report('worker SIGKILL mid-stream, new worker', summary, { receivedAtKill });
    expect(receivedAtKill).toBeLessThan(CALLS * RECIPIENTS); // the fault hit mid-stream
    expect(summary.duplicated).toBeLessThanOrEqual(BATCH); // the batch in flight, resent
    expect(summary).toEqual(allOnce(CALLS, { duplicated: summary.duplicated }));
  }, 150_000);

  it('worker stopped gracefully (SIGTERM, grace 1 s) mid-stream, then a new worker: nothing lost, nothing twice', async () => {
    const e = await env('tfault-term');
    const hook = await receiver({ delayMs: 200 });
    const first = worker(e, { WORKER_SHUTDOWN_GRACE_TIME: '1s' });
    const campaign = await liveCampaign(e, hook);
    const s = stream(e, campaign);
    await until('60 requests received', () => hook.received.length >= 60, 60_000, first.output);
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const receivedAtStop = hook.received.length;
    const second = worker(e);
    await finish(e, campaign.id, s, hook, second, 90_000);
    const summary = await summarise(e.pool, campaign.id, s, hook);
    report('worker SIGTERM mid-stream, new worker', summary, { receivedAtStop });
    expect(receivedAtStop).toBeLessThan(CALLS * RECIPIENTS);
    expect(summary).toEqual(allOnce(CALLS));
    expect(hook.duplicates()).toEqual([]);
  }, 150_000);

  it('a receiver answering after 1-3 s gets each key once (the dispatcher heartbeats)', async () => {
    const e = await env('tfault-slow');
    const hook = await receiver({ delayMs: () => 1000 + Math.floor(Math.random() * 2000) });
    const w = worker(e);
    const campaign = await liveCampaign(e, hook);
    // Waves of about 10 messages at once, each as slow as its slowest answer.
    const s = stream(e, campaign, SLOW_CALLS);
    await finish(e, campaign.id, s, hook, w, 120_000);
    await until('the receiver has answered everything', () => hook.inFlight() === 0, 10_000);
    const summary = await summarise(e.pool, campaign.id, s, hook);
    report('slow receiver (1-3 s) during a stream', summary);
    expect(summary).toEqual(allOnce(SLOW_CALLS, {}, SLOW_CALLS));
    expect(hook.duplicates()).toEqual([]);
  }, 150_000);

  it('a receiver down (503) for a while then up: messages stay queued, then each is delivered once', async () => {
    const e = await env('tfault-down');
    let down = false;
    const hook = await receiver({ status: () => (down ? 503 : 200) });
    const w = worker(e);
    const campaign = await liveCampaign(e, hook);
    const s = stream(e, campaign);
    await until('50 requests received', () => hook.received.length >= 50, 60_000, w.output);
    down = true;
    const downAt = hook.received.length;
    await s.done;
    // Down until the dispatcher has failed at least two attempts' worth of requests (5 tries each).
    await until(
      'the dispatcher retried while down',
      () => hook.received.length >= downAt + 20,
      60_000,
      w.output,
    );
    const queuedWhileDown = (
      await e.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM execution_messages WHERE campaign_id = $1 AND status = 'queued'`,
        [campaign.id],
      )
    ).rows[0].n;
    expect(queuedWhileDown).toBeGreaterThan(0);
    down = false;
    await finish(e, campaign.id, s, hook, w, 90_000);
    const summary = await summarise(e.pool, campaign.id, s, hook);
    const rejected = hook.received.length - [...hook.delivered.values()].reduce((a, b) => a + b, 0);
    report('receiver 503 for a while, then up', summary, { queuedWhileDown, rejected });
    expect(summary).toEqual(allOnce(CALLS));
  }, 150_000);

  it('PostgreSQL restarted mid-stream: every call answered 202 is delivered once', async () => {
    const postgres: RestartableService = await startRestartablePostgres();
    cleanups.push(() => postgres.stop());
    const e = await env('tfault-pg', postgres.address);
    const hook = await receiver({ delayMs: 200 });
    const w = worker(e);
    const campaign = await liveCampaign(e, hook);
    const s = stream(e, campaign);
    await until('60 requests received', () => hook.received.length >= 60, 60_000, w.output);
    await postgres.restart();
    const receivedAtRestart = hook.received.length;
    await finish(e, campaign.id, s, hook, w, 90_000);
    const summary = await summarise(e.pool, campaign.id, s, hook);
    report('PostgreSQL restarted mid-stream', summary, {
      receivedAtRestart,
      statuses: Object.fromEntries(s.statuses),
    });
    expect(receivedAtRestart).toBeLessThan(CALLS * RECIPIENTS);
    expect(summary.duplicated).toBeLessThanOrEqual(BATCH); // a batch sent before its transaction failed
    expect(summary).toEqual(allOnce(s.accepted.length, { duplicated: summary.duplicated }));
  }, 150_000);
});
