/**
 * An api_triggered campaign under a steady stream of trigger calls still continues as new: the
 * dispatcher loop stops starting activities once history is long, the one in flight returns, the
 * workflow continues as new carrying the wake-up, and the new run resumes the dispatcher at once.
 * On the dev server, through the HTTP API, with a real worker whose dispatcher reports every
 * second (a shorter time slice than production's minute, so several runs fit in a test).
 * test/histories/trigger-stream-long-history.json is this test's first run recorded on the code
 * before the `dispatcher-yields` patch (one run of 130 events); it is not re-recorded here.
 */
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import request from 'supertest';
import { createActivities } from '../activities';
import { createApiKey } from '../api/auth';
import type { campaignWorkflow } from '../workflows/campaign';
import { activateUpdate, campaignWorkflowId } from '../workflows/messages';
import { testApp } from './harness/api';
import { until } from './harness/campaigns';
import {
  startDevStack,
  testDatabaseUrl,
  testTemporalAddress,
  uniqueTaskQueue,
  type DevStack,
} from './harness/stack';

describe('continue-as-new of a busy api_triggered campaign', () => {
  let stack: DevStack;
  let pool: Pool;
  let native: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('trigger-can');

  beforeAll(async () => {
    stack = await startDevStack('trigger-can-api');
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 4, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined);
    native = await NativeConnection.connect({ address: testTemporalAddress() });
    worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      activities: createActivities({
        prisma: stack.prisma,
        pool,
        delivery: { webhookSecret: 'test-secret' },
        dispatch: { sliceMs: 1000, lingerMs: 1000 },
      }),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await native?.close();
    await pool?.end();
    await stack?.stop();
  });

  it('continues as new several times while calls keep coming, and sends every accepted message', async () => {
    const app = testApp(stack);
    const key = `Bearer ${(await createApiKey(stack.prisma, `trigger-${randomUUID().slice(0, 6)}`, 'trigger')).key}`;
    const campaignId = randomUUID();
    const handle = await stack.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(campaignId),
      taskQueue,
      args: [
        {
          create: {
            campaignId,
            name: 'busy',
            type: 'api_triggered',
            category: 'transactional',
            channel: 'sms',
            content: { body: 'Your order shipped' },
            requestId: 'create',
            actor: 'tester',
          },
          options: { maxHistoryEvents: 40 },
        },
      ],
    });
    await handle.executeUpdate(activateUpdate, { args: [{ requestId: 'activate', actor: 'tester' }] });

    // A steady stream: 10 calls a second for 20 s, never pausing long enough for the dispatcher to idle.
    const runsDuringStream = new Set<string>();
    let accepted = 0;
    const CALLS = 200;
    const started = Date.now();
    for (let n = 0; n < CALLS; n++) {
      const res = await request(app)
        .post(`/v1/campaigns/${campaignId}/trigger`)
        .set('Authorization', key)
        .send({ recipients: [{ phone: `+3361${String(n).padStart(7, '0')}` }] });
      expect(res.status).toBe(202);
      accepted++;
      if (n % 10 === 0) runsDuringStream.add((await handle.describe()).runId);
      const wait = started + (n + 1) * 100 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    runsDuringStream.add((await handle.describe()).runId);
    await until(
      'every accepted message sent',
      async () =>
        (
          await pool.query(`SELECT 1 FROM execution_messages WHERE campaign_id = $1 AND status = 'sent'`, [
            campaignId,
          ])
        ).rowCount === accepted,
      30_000,
    );
    // Runs crossed while the calls kept coming (one run throughout before the fix).
    expect(runsDuringStream.size).toBeGreaterThanOrEqual(3);
    // Nothing left queued, and the current run is short.
    const queued = await pool.query(
      `SELECT 1 FROM execution_messages WHERE campaign_id = $1 AND status <> 'sent'`,
      [campaignId],
    );
    expect(queued.rowCount).toBe(0);
    // Delayed by little across the switches: the longest accept → sent, in ms.
    const slowest = await pool.query<{ ms: number }>(
      `SELECT max(extract(epoch FROM m.sent_at - e.created_at) * 1000)::float8 AS ms
         FROM execution_messages m JOIN executions e ON e.id = m.execution_id WHERE m.campaign_id = $1`,
      [campaignId],
    );
    expect(slowest.rows[0].ms).toBeLessThan(5_000);
    // Every run stayed near the threshold (40): the one in flight returns within a slice.
    const lengths: number[] = [];
    for await (const run of stack.client.workflow.list({ query: `WorkflowId="${handle.workflowId}"` })) {
      lengths.push(run.historyLength);
    }
    expect(lengths.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...lengths)).toBeLessThan(60);
  });
});
