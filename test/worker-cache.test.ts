/**
 * A campaign out of the worker's sticky cache (WORKER_MAX_CACHED_WORKFLOWS) is replayed from its
 * history on its next command and answers it as a cached one would: same state, same idempotency.
 * A worker with a cache of 2 on the dev server; four campaigns touched in turn.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { PrismaClient } from '../prisma/client';
import { ConfigError, workerSettings } from '../runtime/config';
import type { campaignWorkflow } from '../workflows/campaign';
import {
  activateUpdate,
  campaignWorkflowId,
  describeUpdate,
  editUpdate,
  modifyUpdate,
  stateQuery,
} from '../workflows/messages';
import {
  runTestWorker,
  testPrisma,
  testTemporalAddress,
  uniqueTaskQueue,
  type RunningWorker,
} from './harness/stack';

describe('WORKER_MAX_CACHED_WORKFLOWS', () => {
  it('reads a cache size, 0 (no cache) or at least 2, and refuses anything else in one sentence', () => {
    expect(workerSettings({})).toEqual({});
    expect(workerSettings({ WORKER_MAX_CACHED_WORKFLOWS: ' 250 ' })).toEqual({ maxCachedWorkflows: 250 });
    expect(workerSettings({ WORKER_MAX_CACHED_WORKFLOWS: '0' })).toEqual({ maxCachedWorkflows: 0 });
    for (const bad of ['1', '-5', '2.5', 'many', '1e3', '99999999999999999999']) {
      expect(() => workerSettings({ WORKER_MAX_CACHED_WORKFLOWS: bad })).toThrow(
        new ConfigError(
          `WORKER_MAX_CACHED_WORKFLOWS must be a whole number of campaigns, 0 (no cache) or at least 2 (got "${bad}").`,
        ),
      );
    }
  });
});

describe('a campaign evicted from the worker cache', () => {
  const taskQueue = uniqueTaskQueue('cache');
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;
  let prisma: PrismaClient;
  let worker: RunningWorker;

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
    nativeConnection = await NativeConnection.connect({ address: testTemporalAddress() });
    client = new Client({ connection });
    prisma = testPrisma();
    worker = await runTestWorker({ connection: nativeConnection, taskQueue, prisma, maxCachedWorkflows: 2 });
  });

  afterAll(async () => {
    await worker?.stop();
    await nativeConnection?.close();
    await connection?.close();
    await prisma?.$disconnect();
  });

  it('answers its next command correctly after three others took its place', async () => {
    const meta = (requestId: string) => ({ requestId, actor: 'tester' });
    async function liveCampaign(name: string): Promise<WorkflowHandle<typeof campaignWorkflow>> {
      const campaignId = randomUUID();
      const handle = await client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId: campaignWorkflowId(campaignId),
        taskQueue,
        args: [
          {
            create: {
              campaignId,
              name,
              type: 'scheduled',
              channel: 'email',
              content: { sender: 'news@shop.example', subject: 'Hi', body: 'Hello' },
              ...meta('create'),
            },
          },
        ],
      });
      await handle.executeUpdate(activateUpdate, { args: [meta('activate')] });
      await handle.executeUpdate(modifyUpdate, { args: [meta('modify')] });
      return handle;
    }

    const first = await liveCampaign('first');
    for (const name of ['second', 'third', 'fourth']) await liveCampaign(name);
    // Four running campaigns, two cached: the least recently used (the first) is out.
    expect(worker.worker.getStatus().numCachedWorkflows).toBe(2);

    // The next command to the first campaign: its state was rebuilt from history.
    const edited = await first.executeUpdate(editUpdate, {
      args: [{ ...meta('edit'), throttle: 250 }],
    });
    expect(edited.replayed).toBe(false);
    expect(edited.state).toMatchObject({
      name: 'first',
      status: 'live',
      versionCount: 1,
      live: { number: 1 },
      draft: { throttle: 250 },
    });

    // Evicted again; a retried command (same request id) is recognised, not applied twice.
    for (const name of ['fifth', 'sixth']) await liveCampaign(name);
    const retried = await first.executeUpdate(activateUpdate, { args: [meta('activate')] });
    expect(retried.replayed).toBe(true);
    expect(retried.state.versionCount).toBe(1);
    const described = await first.executeUpdate(describeUpdate, {
      args: [{ ...meta('describe'), description: 'after eviction' }],
    });
    expect(described.state.description).toBe('after eviction');
    expect(await first.query(stateQuery)).toMatchObject({
      description: 'after eviction',
      draft: { throttle: 250 },
      live: { number: 1 },
    });
  });
});
