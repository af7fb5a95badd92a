/**
 * Against the real Temporal dev server (what the Java test server lacks: visibility queries over
 * our custom search attributes, as operators use them in the Web UI).
 */
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { PrismaClient } from '../prisma/client';
import type { campaignWorkflow } from '../workflows/campaign';
import {
  activateUpdate,
  campaignWorkflowId,
  editUpdate,
  modifyUpdate,
  projectedUpdate,
  stopUpdate,
} from '../workflows/messages';
import { startDevStack, type DevStack } from './harness/stack';

/** Visibility is eventually consistent: poll a bounded number of times. */
/**
 * Polls a visibility query until it lists exactly `expected` workflows, or at least that many when
 * not `exact` (visibility is eventually consistent: a stop just made may still be indexed under the
 * campaign's previous status).
 */
async function listIds(client: Client, query: string, expected: number, exact = true): Promise<string[]> {
  let ids: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    ids = [];
    for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
    if (exact ? ids.length === expected : ids.length >= expected) return ids;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return ids;
}

describe('campaign workflow on the dev server', () => {
  let stack: DevStack;
  let client: Client;
  let prisma: PrismaClient;
  let taskQueue: string;

  beforeAll(async () => {
    stack = await startDevStack('dev');
    ({ client, prisma, taskQueue } = stack);
  });

  afterAll(() => stack?.stop());

  it('lists a campaign that continued-as-new once, with ExecutionStatus="Running"', async () => {
    const campaignId = randomUUID();
    const handle = await client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(campaignId),
      taskQueue,
      args: [
        {
          create: {
            campaignId,
            name: 'long-lived',
            type: 'api_triggered', // kept out of the next test's scope
            channel: 'sms',
            content: { body: 'Hi' },
            requestId: 'c',
            actor: 'tester',
          },
          options: { maxHistoryEvents: 30 },
        },
      ],
    });
    await handle.executeUpdate(activateUpdate, { args: [{ requestId: 'a', actor: 'tester' }] });
    await handle.executeUpdate(modifyUpdate, { args: [{ requestId: 'm', actor: 'tester' }] });
    for (let i = 0; i < 12; i++) {
      await handle.executeUpdate(editUpdate, {
        args: [{ requestId: `e${i}`, actor: 'tester', name: `v${i}` }],
      });
    }
    const scope = `WorkflowId="${handle.workflowId}"`;
    const all = await listIds(
      client,
      `${scope} AND CampaignStatus="live" AND CampaignHasDraft=true`,
      2,
      false,
    );
    expect(all.length).toBeGreaterThan(1); // closed runs keep their attributes…
    expect(
      await listIds(
        client,
        `${scope} AND CampaignStatus="live" AND CampaignHasDraft=true AND ExecutionStatus="Running"`,
        1,
      ),
    ).toEqual([handle.workflowId]); // …so the operator query names the running one
  });

  it('answers the draft-indicator query with exactly the live campaigns that have a draft', async () => {
    let n = 0;
    const meta = () => ({ requestId: `r-${++n}`, actor: 'tester' });
    const content = { sender: 'news@shop.example', subject: 'Hi {{firstName}}', body: 'Hello' };
    async function campaign(name: string, steps: Array<(h: WorkflowHandle) => Promise<unknown>>) {
      const campaignId = randomUUID();
      const handle = await client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId: campaignWorkflowId(campaignId),
        taskQueue,
        staticSummary: `Campaign: ${name}`,
        args: [{ create: { campaignId, name, type: 'scheduled', channel: 'email', content, ...meta() } }],
      });
      await handle.executeUpdate(projectedUpdate);
      for (const step of steps) await step(handle);
      return { name, workflowId: handle.workflowId };
    }
    const activate = (h: WorkflowHandle) => h.executeUpdate(activateUpdate, { args: [meta()] });
    const modify = (h: WorkflowHandle) => h.executeUpdate(modifyUpdate, { args: [meta()] });
    const stop = (h: WorkflowHandle) =>
      h.executeUpdate(stopUpdate, { args: [{ ...meta(), mode: 'cancel' }] });
    const schedule = (h: WorkflowHandle) =>
      h.executeUpdate(editUpdate, { args: [{ ...meta(), schedule: { startAt: '2099-01-01T00:00:00Z' } }] });

    const campaigns = await Promise.all([
      campaign('draft only', []),
      campaign('live, no draft', [activate]),
      campaign('live with draft A', [activate, modify]),
      campaign('live with draft B', [activate, modify]),
      campaign('scheduled with draft', [schedule, activate, modify]),
      campaign('stopped', [activate, modify, stop]),
    ]);
    const idOf = (name: string) => campaigns.find((c) => c.name === name)!.workflowId;
    const scope = `TaskQueue="${taskQueue}" AND CampaignType="scheduled"`;

    expect(
      (
        await listIds(
          client,
          `${scope} AND CampaignStatus="live" AND CampaignHasDraft=true AND ExecutionStatus="Running"`,
          2,
        )
      ).sort(),
    ).toEqual([idOf('live with draft A'), idOf('live with draft B')].sort());
    expect(await listIds(client, `${scope} AND CampaignStatus="scheduled"`, 1)).toEqual([
      idOf('scheduled with draft'),
    ]);
    expect(
      await listIds(client, `${scope} AND CampaignStatus="stopped" AND CampaignHasDraft=false`, 1),
    ).toEqual([idOf('stopped')]);
    expect(await listIds(client, `${scope} AND CampaignStatus="draft"`, 1)).toEqual([idOf('draft only')]);
    expect(
      (await listIds(client, `${scope} AND CampaignLiveVersion=1 AND CampaignChannel="email"`, 5)).length,
    ).toBe(5);
    const next = await listIds(client, `${scope} AND CampaignNextRunAt > "2098-12-31T00:00:00Z"`, 1);
    expect(next).toEqual([idOf('scheduled with draft')]);

    const description = await client.workflow.getHandle(idOf('live with draft A')).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(await description.staticSummary()).toBe('Campaign: live with draft A');
    expect(
      await prisma.campaign.count({
        where: { status: 'live', hasDraft: true, name: { startsWith: 'live with draft' } },
      }),
    ).toBeGreaterThanOrEqual(2);
  });
});
