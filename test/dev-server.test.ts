/**
 * Against the real Temporal dev server (what the Java test server lacks: visibility queries over
 * our custom search attributes, as operators use them in the Web UI).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { PrismaClient } from '../prisma/client';
import type { campaignWorkflow } from '../workflows/campaign';
import { activateUpdate, campaignWorkflowId, projectedUpdate } from '../workflows/messages';
import {
  runTestWorker,
  testPrisma,
  testTemporalAddress,
  uniqueTaskQueue,
  type RunningWorker,
} from './harness/stack';

/** Visibility is eventually consistent: poll a bounded number of times. */
async function listIds(client: Client, query: string, expected: number): Promise<string[]> {
  let ids: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    ids = [];
    for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
    if (ids.length >= expected) return ids;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return ids;
}

describe('campaign workflow on the dev server', () => {
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;
  let prisma: PrismaClient;
  let worker: RunningWorker;
  const taskQueue = uniqueTaskQueue('dev');

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
    nativeConnection = await NativeConnection.connect({ address: testTemporalAddress() });
    client = new Client({ connection });
    prisma = testPrisma();
    worker = await runTestWorker({ connection: nativeConnection, taskQueue, prisma });
  });

  afterAll(async () => {
    await worker?.stop();
    await nativeConnection?.close();
    await connection?.close();
    await prisma?.$disconnect();
  });

  it('lets operators find campaigns by status and draft flag through search attributes', async () => {
    const ids = [randomUUID(), randomUUID()];
    const handles = await Promise.all(
      ids.map((campaignId, i) =>
        client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
          workflowId: campaignWorkflowId(campaignId),
          taskQueue,
          args: [
            {
              create: {
                campaignId,
                name: `Visibility ${i}`,
                description: '',
                type: 'api_triggered',
                channel: 'push',
                schedule: {},
                requestId: `create-${i}`,
                actor: 'tester',
              },
            },
          ],
        }),
      ),
    );
    await Promise.all(handles.map((h) => h.executeUpdate(projectedUpdate)));
    await handles[0].executeUpdate(activateUpdate, { args: [{ requestId: 'a', actor: 'tester' }] });

    const scope = `TaskQueue="${taskQueue}"`;
    expect(await listIds(client, `${scope} AND CampaignStatus="live" AND CampaignHasDraft=false`, 1)).toEqual(
      [campaignWorkflowId(ids[0])],
    );
    expect(await listIds(client, `${scope} AND CampaignStatus="draft" AND CampaignHasDraft=true`, 1)).toEqual(
      [campaignWorkflowId(ids[1])],
    );
    expect(await listIds(client, `${scope} AND CampaignLiveVersion=1`, 1)).toEqual([
      campaignWorkflowId(ids[0]),
    ]);

    const description = await handles[0].describe();
    expect(description.status.name).toBe('RUNNING');
    expect(await prisma.campaign.count({ where: { id: { in: ids } } })).toBe(2);
  });
});
