/**
 * A `drain` stop and the timer loop (time-skipping server, real activities, real PostgreSQL): a run
 * that comes due while the stop awaits its counts (the run in flight ended meanwhile) is not
 * started; the stop lets the run in flight finish and nothing after it.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createActivities } from '../activities';
import type { CampaignContent } from '../domain/types';
import type { campaignWorkflow } from '../workflows/campaign';
import {
  activateUpdate,
  campaignWorkflowId,
  editUpdate,
  modifyUpdate,
  stateQuery,
  stopUpdate,
} from '../workflows/messages';
import {
  startTimeSkippingStack,
  testDatabaseUrl,
  uniqueTaskQueue,
  type TimeSkippingStack,
} from './harness/stack';

const EMAIL: CampaignContent = { sender: 'news@shop.example', subject: 'Hi {{firstName}}', body: 'Hello' };

describe('drain stop (time-skipping)', () => {
  let stack: TimeSkippingStack;
  let n = 0;
  const meta = () => ({ requestId: `req-${++n}`, actor: 'tester' });

  beforeAll(async () => {
    stack = await startTimeSkippingStack('drain');
  });
  afterAll(() => stack?.stop());

  /** An audience of `size` profiles with an email address. */
  async function audience(size: number): Promise<string> {
    const prefix = randomUUID().slice(0, 8);
    const ids = Array.from({ length: size }, (_, i) => `${prefix}-${i}`);
    await stack.prisma.$executeRaw`INSERT INTO profiles (id, email, attributes)
      SELECT id, id || '@example.com', '{"firstName":"Ada"}' FROM unnest(${ids}::text[]) AS id`;
    const audienceId = randomUUID();
    await stack.prisma
      .$executeRaw`INSERT INTO audiences (id, name) VALUES (${audienceId}::uuid, ${`aud-${prefix}`})`;
    await stack.prisma
      .$executeRaw`INSERT INTO audience_members SELECT ${audienceId}::uuid, unnest(${ids}::text[])`;
    return audienceId;
  }

  const runRows = async (id: string) =>
    (
      await stack.prisma.$queryRaw<{ number: number; version: number; status: string }[]>`
      SELECT number, version, status FROM campaign_runs WHERE campaign_id = ${id}::uuid ORDER BY number`
    ).map((r) => [r.number, r.version, r.status]);
  const actions = async (id: string) =>
    (await stack.prisma.campaignEvent.findMany({ where: { campaignId: id }, orderBy: { id: 'asc' } })).map(
      (e) => e.action,
    );

  async function poll(what: string, done: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (await done()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('starts no run that comes due while the stop awaits its counts (the run in flight ended meanwhile)', async () => {
    const { env, prisma } = stack;
    // A worker of its own whose runCounts (the real local activity) waits for the test's word.
    const queue = uniqueTaskQueue('drain-gated');
    const pool = new Pool({ connectionString: testDatabaseUrl(), max: 3, connectionTimeoutMillis: 10_000 });
    const real = createActivities({ prisma, pool, delivery: { webhookSecret: 'test-secret' } });
    let called!: () => void;
    const countsCalled = new Promise<void>((resolve) => (called = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: queue,
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      activities: {
        ...real,
        async runCounts(ref: Parameters<typeof real.runCounts>[0]) {
          called();
          await released;
          return real.runCounts(ref);
        },
      },
    });
    const running = worker.run();
    try {
      const t0 = await env.currentTimeMs();
      const nine = new Date(t0);
      nine.setUTCHours(9, 0, 0, 0);
      if (nine.getTime() <= t0) nine.setUTCDate(nine.getUTCDate() + 1);
      const id = randomUUID();
      const handle: WorkflowHandle<typeof campaignWorkflow> = await env.client.workflow.start<
        typeof campaignWorkflow
      >('campaignWorkflow', {
        workflowId: campaignWorkflowId(id),
        taskQueue: queue,
        args: [
          {
            create: {
              campaignId: id,
              name: 'Drain',
              type: 'scheduled',
              channel: 'email',
              content: EMAIL,
              audience: { audienceId: await audience(4) },
              throttle: 2,
              schedule: { recurrence: { kind: 'daily', at: '09:00', timezone: 'UTC' } },
              ...meta(),
            },
          },
        ],
      });
      await handle.executeUpdate(activateUpdate, { args: [meta()] });
      await env.sleep(nine.getTime() - 1000 - t0);
      await poll('run 1 in flight', async () => (await handle.query(stateQuery)).runs.active !== null);
      // A one-shot v2 while run 1 (v1) is in flight: its own run is due the moment run 1 ends.
      await handle.executeUpdate(modifyUpdate, { args: [meta()] });
      await handle.executeUpdate(editUpdate, {
        args: [
          {
            ...meta(),
            audience: { audienceId: await audience(4) },
            schedule: { recurrence: { kind: 'once' } },
          },
        ],
      });
      await handle.executeUpdate(activateUpdate, { args: [meta()] });
      const stopping = handle.executeUpdate(stopUpdate, { args: [{ ...meta(), mode: 'drain' }] });
      await countsCalled;
      // Meanwhile run 1 ends and the workflow records it (projected): v2's run is due now.
      await poll('run 1 recorded ended', async () => (await actions(id)).includes('run-completed'));
      release();
      const stopped = await stopping;
      expect(stopped.state.status).toBe('stopped');
      expect(stopped.receipt).toMatchObject({ mode: 'drain', sent: 4 });
      await poll('no run in flight', async () => (await handle.query(stateQuery)).runs.active === null);
      // Run 1 drained; no run 2 (before the fix: started while the stop awaited, then drained too).
      expect(await runRows(id)).toEqual([[1, 1, 'completed']]);
      expect((await handle.query(stateQuery)).runs.count).toBe(1);
      expect(await actions(id)).toEqual([
        'create',
        'activate',
        'run-start',
        'modify',
        'edit',
        'activate',
        'run-completed',
        'stop',
      ]);
    } finally {
      release();
      worker.shutdown();
      await running;
      await pool.end();
    }
  });
});
