/**
 * The campaign workflow under Temporal's time-skipping test server, with real activities writing to
 * the real PostgreSQL of the test harness.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PrismaClient } from '../prisma/client';
import { startTimeSkippingServer } from '../toolchain/temporal-server';
import type { campaignWorkflow } from '../workflows/campaign';
import { activateUpdate, campaignWorkflowId, projectedUpdate, stateQuery } from '../workflows/messages';
import { runTestWorker, testPrisma, uniqueTaskQueue, type RunningWorker } from './harness/stack';

const DAY = 86_400_000;

describe('campaign workflow (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let prisma: PrismaClient;
  let worker: RunningWorker;
  const taskQueue = uniqueTaskQueue('ts');

  beforeAll(async () => {
    env = await startTimeSkippingServer();
    prisma = testPrisma();
    worker = await runTestWorker({ connection: env.nativeConnection, taskQueue, prisma });
  });

  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
    await prisma?.$disconnect();
  });

  it('stays scheduled for 30 days, then goes live at its start date (timer skipped)', async () => {
    const campaignId = randomUUID();
    const serverNow = await env.currentTimeMs();
    const startAt = new Date(serverNow + 30 * DAY).toISOString();
    const handle = await env.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(campaignId),
      taskQueue,
      args: [
        {
          create: {
            campaignId,
            name: 'Summer newsletter',
            description: '',
            type: 'scheduled',
            channel: 'email',
            schedule: { startAt },
            requestId: 'create-1',
            actor: 'tester',
          },
        },
      ],
    });
    await handle.executeUpdate(projectedUpdate);
    const activated = await handle.executeUpdate(activateUpdate, {
      args: [{ requestId: 'activate-1', actor: 'tester' }],
    });
    expect(activated).toMatchObject({ status: 'scheduled', liveVersion: 1, hasDraft: false });
    expect(await prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).toMatchObject({
      status: 'scheduled',
      liveVersion: 1,
    });

    await env.sleep(29 * DAY);
    expect((await handle.query(stateQuery)).status).toBe('scheduled');

    const before = Date.now();
    await env.sleep(1 * DAY + 60_000);
    expect(Date.now() - before).toBeLessThan(20_000); // a day of server time, not of ours
    const state = await handle.executeUpdate(projectedUpdate);
    expect(state.status).toBe('live');

    const row = await prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } });
    expect(row).toMatchObject({ status: 'live', liveVersion: 1, hasDraft: false, revision: 3 });
    const history = await prisma.campaignEvent.findMany({
      where: { campaignId },
      orderBy: { at: 'asc' },
    });
    expect(history.map((e) => [e.action, e.actor, e.version])).toEqual([
      ['create', 'tester', null],
      ['activate', 'tester', 1],
      ['start', 'system', 1],
    ]);
    expect(history[2].at.getTime()).toBeGreaterThanOrEqual(Date.parse(startAt));
  });

  it('rejects an invalid activation in the validator, leaving no trace in history', async () => {
    const campaignId = randomUUID();
    const handle = await env.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(campaignId),
      taskQueue,
      args: [
        {
          create: {
            campaignId,
            name: 'Broken dates',
            description: '',
            type: 'scheduled',
            channel: 'sms',
            schedule: { startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' },
            requestId: 'create-1',
            actor: 'tester',
          },
        },
      ],
    });
    await handle.executeUpdate(projectedUpdate);
    await expect(
      handle.executeUpdate(activateUpdate, { args: [{ requestId: 'a-1', actor: 'tester' }] }),
    ).rejects.toMatchObject({ cause: { type: 'REVIEW_FAILED' } });
    const history = await handle.fetchHistory();
    const acceptedUpdates = (history.events ?? []).map(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name,
    );
    expect(acceptedUpdates).toContain('projected');
    expect(acceptedUpdates).not.toContain('activate');
    expect((await handle.query(stateQuery)).status).toBe('draft');
  });
});
