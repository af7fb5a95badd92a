/**
 * The campaign workflow under Temporal's time-skipping test server, with real activities writing to
 * the real PostgreSQL of the test harness. Set RECORD_HISTORIES=1 to (re)write the histories that
 * test/replay.test.ts replays.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PrismaClient } from '../prisma/client';
import type { campaignWorkflow, CampaignWorkflowOptions } from '../workflows/campaign';
import {
  activateUpdate,
  campaignWorkflowId,
  commandSignal,
  draftQuery,
  editUpdate,
  liveVersionQuery,
  modifyUpdate,
  projectedUpdate,
  stateQuery,
  stopUpdate,
  duplicateUpdate,
} from '../workflows/messages';
import type { CampaignContent, CreateCampaign } from '../domain/types';
import { startTimeSkippingStack, type TimeSkippingStack } from './harness/stack';

const DAY = 86_400_000;
const EMAIL: CampaignContent = {
  sender: 'news@shop.example',
  subject: 'Hello {{firstName}}',
  body: 'Dear {{firstName}}, the sale is on.',
};

describe('campaign workflow (time-skipping)', () => {
  let stack: TimeSkippingStack;
  let env: TestWorkflowEnvironment;
  let prisma: PrismaClient;
  let taskQueue: string;
  let n = 0;
  const meta = () => ({ requestId: `req-${++n}`, actor: 'tester' });

  beforeAll(async () => {
    stack = await startTimeSkippingStack('ts');
    ({ env, prisma, taskQueue } = stack);
  });

  afterAll(() => stack?.stop());

  async function start(
    create: Partial<CreateCampaign> = {},
    options?: CampaignWorkflowOptions,
  ): Promise<{ id: string; handle: WorkflowHandle<typeof campaignWorkflow> }> {
    const id = randomUUID();
    const handle = await env.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(id),
      taskQueue,
      args: [
        {
          create: {
            campaignId: id,
            name: 'Campaign',
            type: 'scheduled',
            channel: 'email',
            content: EMAIL,
            ...meta(),
            ...create,
          },
          ...(options ? { options } : {}),
        },
      ],
    });
    await handle.executeUpdate(projectedUpdate);
    return { id, handle };
  }

  const row = (id: string) => prisma.campaign.findUniqueOrThrow({ where: { id } });
  const actions = async (id: string) =>
    (await prisma.campaignEvent.findMany({ where: { campaignId: id }, orderBy: { id: 'asc' } })).map(
      (e) => e.action,
    );
  async function record(name: string, handle: WorkflowHandle) {
    if (process.env.RECORD_HISTORIES !== '1') return;
    const dir = path.join(__dirname, 'histories');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(await handle.fetchHistory(), null, 1));
  }

  it('is scheduled, goes live at day 10, completes at day 90 (timers skipped)', async () => {
    const t0 = await env.currentTimeMs();
    const startAt = new Date(t0 + 10 * DAY).toISOString();
    const endAt = new Date(t0 + 90 * DAY).toISOString();
    const { id, handle } = await start({ schedule: { startAt, endAt } });
    const activated = await handle.executeUpdate(activateUpdate, { args: [meta()] });
    expect(activated.state).toMatchObject({ status: 'scheduled', versionCount: 1, draft: null });
    expect(await row(id)).toMatchObject({ status: 'scheduled', liveVersion: 1, hasDraft: false });

    await env.sleep(9 * DAY);
    expect((await handle.query(stateQuery)).status).toBe('scheduled');
    const wall = Date.now();
    await env.sleep(1 * DAY + 60_000);
    expect((await handle.executeUpdate(projectedUpdate)).status).toBe('live');
    expect(await row(id)).toMatchObject({
      status: 'live',
      startAt: new Date(startAt),
      endAt: new Date(endAt),
    });

    await env.sleep(80 * DAY);
    expect((await handle.executeUpdate(projectedUpdate)).status).toBe('completed');
    expect(Date.now() - wall).toBeLessThan(30_000); // 80 days of server time, seconds of ours
    expect(await row(id)).toMatchObject({ status: 'completed', liveVersion: 1 });
    const history = await prisma.campaignEvent.findMany({
      where: { campaignId: id },
      orderBy: { id: 'asc' },
    });
    expect(history.map((e) => [e.action, e.actor, e.version])).toEqual([
      ['create', 'tester', null],
      ['activate', 'tester', 1],
      ['start', 'system', 1],
      ['complete', 'system', 1],
    ]);
    expect(history[2].at.getTime()).toBeGreaterThanOrEqual(Date.parse(startAt));
    expect(history[3].at.getTime()).toBeGreaterThanOrEqual(Date.parse(endAt));
    await record('scheduled-live-completed', handle);
  });

  it('modify + activate while live keeps it live with version 2; live stays viewable meanwhile', async () => {
    const { id, handle } = await start({ name: 'Newsletter' });
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    const modified = await handle.executeUpdate(modifyUpdate, { args: [meta()] });
    expect(modified.state).toMatchObject({ status: 'live', draft: { basedOn: 1, revision: 1 } });
    expect(await row(id)).toMatchObject({ status: 'live', hasDraft: true, liveVersion: 1, draftRevision: 1 });

    await handle.executeUpdate(editUpdate, {
      args: [{ ...meta(), expectedRevision: 1, content: { ...EMAIL, subject: 'Version two' } }],
    });
    expect((await handle.query(liveVersionQuery))?.content.subject).toBe('Hello {{firstName}}');
    expect((await handle.query(draftQuery))?.content.subject).toBe('Version two');
    await expect(
      handle.executeUpdate(editUpdate, { args: [{ ...meta(), expectedRevision: 1, name: 'stale' }] }),
    ).rejects.toMatchObject({ cause: { type: 'REVISION_MISMATCH' } });

    const result = await handle.executeUpdate(activateUpdate, { args: [meta()] });
    expect(result.state).toMatchObject({ status: 'live', versionCount: 2, draft: null });
    expect(result.state.live).toMatchObject({ number: 2, basedOn: 1, content: { subject: 'Version two' } });
    expect(await row(id)).toMatchObject({ status: 'live', liveVersion: 2, hasDraft: false });
    const versions = await prisma.campaignVersion.findMany({
      where: { campaignId: id },
      orderBy: { number: 'asc' },
    });
    expect(versions.map((v) => [v.number, (v.content as CampaignContent).subject, v.basedOn])).toEqual([
      [1, 'Hello {{firstName}}', null],
      [2, 'Version two', 1],
    ]);
    expect(await actions(id)).toEqual(['create', 'activate', 'modify', 'edit', 'activate']);
    await record('modify-activate', handle);
  });

  it.each([
    ['a draft', async () => (await start()).handle],
    [
      'a scheduled campaign',
      async () => {
        const { handle } = await start({
          schedule: { startAt: new Date((await env.currentTimeMs()) + 5 * DAY).toISOString() },
        });
        await handle.executeUpdate(activateUpdate, { args: [meta()] });
        return handle;
      },
    ],
    [
      'a live campaign with a draft',
      async () => {
        const { handle } = await start();
        await handle.executeUpdate(activateUpdate, { args: [meta()] });
        await handle.executeUpdate(modifyUpdate, { args: [meta()] });
        return handle;
      },
    ],
  ])('stopping %s is terminal: later commands are refused and time changes nothing', async (_name, make) => {
    const handle = await make();
    const before = await handle.query(stateQuery);
    const stopped = await handle.executeUpdate(stopUpdate, { args: [{ ...meta(), mode: 'cancel' }] });
    expect(stopped.receipt).toMatchObject({ mode: 'cancel', liveVersion: before.live?.number ?? null });
    expect(stopped.state).toMatchObject({ status: 'stopped', draft: null });
    for (const update of [activateUpdate, modifyUpdate, editUpdate, duplicateUpdate] as const) {
      await expect(
        handle.executeUpdate(update as typeof modifyUpdate, { args: [meta()] }),
      ).rejects.toMatchObject({
        cause: { type: 'CAMPAIGN_STOPPED' },
      });
    }
    await env.sleep(30 * DAY);
    expect((await handle.executeUpdate(projectedUpdate)).status).toBe('stopped');
    const id = before.id;
    expect(await row(id)).toMatchObject({ status: 'stopped', hasDraft: false });
  });

  it('rejects an invalid command in the validator, leaving no trace in history', async () => {
    const { handle } = await start({ content: { sender: 'x' } });
    await expect(handle.executeUpdate(activateUpdate, { args: [meta()] })).rejects.toMatchObject({
      cause: {
        type: 'REVIEW_FAILED',
        details: [expect.arrayContaining([expect.objectContaining({ field: 'content.subject' })])],
      },
    });
    const history = await handle.fetchHistory();
    const accepted = (history.events ?? []).map(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name,
    );
    expect(accepted).toContain('projected');
    expect(accepted).not.toContain('activate');
    expect((await handle.query(stateQuery)).status).toBe('draft');
    await record('rejected-update', handle);
  });

  it('accepts commands as signals, and a retried request id acts once', async () => {
    const { id, handle } = await start();
    await handle.signal(commandSignal, { type: 'activate', requestId: 'sig-1', actor: 'ops' });
    await handle.signal(commandSignal, { type: 'activate', requestId: 'sig-1', actor: 'ops' });
    await handle.signal(commandSignal, { type: 'discard', requestId: 'sig-2', actor: 'ops' }); // refused: no draft
    expect((await handle.executeUpdate(projectedUpdate)).status).toBe('live');
    const again = await handle.executeUpdate(activateUpdate, {
      args: [{ requestId: 'sig-1', actor: 'ops' }],
    });
    expect(again).toMatchObject({ replayed: true, state: { versionCount: 1 } });
    expect(await actions(id)).toEqual(['create', 'activate']);
    await record('signals-and-replays', handle);
  });

  it('continues-as-new in the middle of a stream of commands, losing nothing and keeping deduplication', async () => {
    const { id, handle } = await start({}, { maxHistoryEvents: 60 });
    const firstRun = (await handle.describe()).runId;
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const m = meta();
      ids.push(m.requestId);
      await handle.executeUpdate(editUpdate, { args: [{ ...m, name: `edit ${i}` }] });
    }
    const state = await handle.executeUpdate(projectedUpdate);
    expect(state).toMatchObject({ name: 'edit 39', draft: { revision: 41 } });
    const description = await handle.describe();
    expect(description.runId).not.toBe(firstRun);
    expect(description.historyLength).toBeLessThan(80);
    // Request ids from before continue-as-new are still recognised.
    const replay = await handle.executeUpdate(editUpdate, {
      args: [{ requestId: ids[0], actor: 'tester', name: 'again' }],
    });
    expect(replay).toMatchObject({ replayed: true, state: { name: 'edit 39' } });
    expect(await row(id)).toMatchObject({ name: 'edit 39', draftRevision: 41 });
    expect((await actions(id)).filter((a) => a === 'edit')).toHaveLength(40);
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    expect((await handle.query(stateQuery)).live?.number).toBe(1);
  });
});
