/**
 * The campaign workflow under Temporal's time-skipping test server, with real activities writing to
 * the real PostgreSQL of the test harness: scheduled → live at day 10 → completed at day 90; modify
 * and activate while live; stop is terminal; signals and idempotency; continue-as-new mid-stream; a
 * rejected update leaves no history; input rules in the validators; a one-shot run; a cancel stop
 * mid-run, and one racing a run that ends and a newer one that starts; no occurrence before its
 * version's activation; a one-shot version replacing a recurring one mid-run gets its own run; the
 * update-completed event's size with 1,000 remembered ids. Set RECORD_HISTORIES=1 to (re)write the
 * histories that test/replay.test.ts replays.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createActivities } from '../activities';
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
import type { CampaignContent, CampaignView, CreateCampaign } from '../domain/types';
import {
  startTimeSkippingStack,
  testDatabaseUrl,
  uniqueTaskQueue,
  type TimeSkippingStack,
} from './harness/stack';

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

  it('refuses text PostgreSQL cannot store and integers beyond int4 from commands that bypass the API', async () => {
    const { id, handle } = await start();
    await expect(
      handle.executeUpdate(editUpdate, { args: [{ ...meta(), name: 'nul \u0000 here' }] }),
    ).rejects.toMatchObject({
      cause: { type: 'INVALID_INPUT', details: [[{ field: 'name', message: expect.stringMatching(/NUL/) }]] },
    });
    await expect(
      handle.executeUpdate(editUpdate, { args: [{ ...meta(), tags: ['\ud800'], throttle: 2 ** 31 }] }),
    ).rejects.toMatchObject({
      cause: { type: 'INVALID_INPUT', details: [[{ field: 'tags.0' }, { field: 'throttle' }]] },
    });
    // The same through the signal: refused (logged), nothing changes, later commands still work.
    await handle.signal(commandSignal, {
      type: 'edit',
      requestId: 'bad-1',
      actor: 'ops',
      description: '\u0000',
    });
    await handle.executeUpdate(editUpdate, { args: [{ ...meta(), name: 'fine' }] });
    expect(await row(id)).toMatchObject({ name: 'fine', description: '', draftRevision: 2 });
    expect(await actions(id)).toEqual(['create', 'edit']);
  });

  it('lets a contextSchema carry any JSON number (multipleOf 0.01), through the update and the signal', async () => {
    const { id, handle } = await start();
    const money = { type: 'number', multipleOf: 0.01, maximum: 1e12 };
    const contextSchema = { type: 'object', properties: { amount: money } };
    // The signal first (the history recorded before this rule shows it refused, as INVALID_INPUT).
    await handle.signal(commandSignal, {
      type: 'edit',
      requestId: 'schema-1',
      actor: 'ops',
      content: { ...EMAIL, contextSchema },
    });
    await handle.executeUpdate(editUpdate, { args: [{ ...meta(), name: 'fine' }] });
    await record('schema-numbers-signal', handle);
    expect(await row(id)).toMatchObject({ name: 'fine', draftRevision: 3 });
    const edited = await handle.executeUpdate(editUpdate, {
      args: [{ ...meta(), content: { ...EMAIL, contextSchema: { ...contextSchema, minProperties: 1.5 } } }],
    });
    expect(edited.state.draft?.revision).toBe(4);
    // Our own integer fields keep the int4 rule.
    await expect(
      handle.executeUpdate(editUpdate, { args: [{ ...meta(), throttle: 0.5 }] }),
    ).rejects.toMatchObject({ cause: { type: 'INVALID_INPUT', details: [[{ field: 'throttle' }]] } });
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
    // Both sides of the continue-as-new: the first execution ends with it, the next starts from the
    // carried state.
    await record('continue-as-new-first', env.client.workflow.getHandle(handle.workflowId, firstRun));
    await record('continue-as-new-carried', handle);
  });

  /** An audience of `size` profiles with an email address (a run sends to each). */
  async function audience(size: number): Promise<string> {
    const prefix = randomUUID().slice(0, 8);
    const ids = Array.from({ length: size }, (_, i) => `${prefix}-${i}`);
    await prisma.$executeRaw`INSERT INTO profiles (id, email, attributes)
      SELECT id, id || '@example.com', '{"firstName":"Ada"}' FROM unnest(${ids}::text[]) AS id`;
    const audienceId = randomUUID();
    await prisma.$executeRaw`INSERT INTO audiences (id, name) VALUES (${audienceId}::uuid, ${`aud-${prefix}`})`;
    await prisma.$executeRaw`INSERT INTO audience_members SELECT ${audienceId}::uuid, unnest(${ids}::text[])`;
    return audienceId;
  }

  /** Polls (in real time: runs send in real time) until `done` holds; returns the projected state. */
  async function until(
    handle: WorkflowHandle<typeof campaignWorkflow>,
    done: (state: CampaignView) => boolean,
  ): Promise<CampaignView> {
    for (let i = 0; i < 600; i++) {
      // A query, which leaves no trace in history (then the update, to read what was projected).
      if (done(await handle.query(stateQuery))) return handle.executeUpdate(projectedUpdate);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('timed out waiting for the campaign');
  }

  const runRows = async (id: string) =>
    prisma.$queryRaw<{ number: number; version: number; status: string }[]>`
      SELECT number, version, status FROM campaign_runs WHERE campaign_id = ${id}::uuid ORDER BY number`;

  /** The first 09:00 UTC after `t` + `days` days (on a Monday with `monday`). */
  function nine(t: number, days = 0, monday = false): number {
    const d = new Date(t + days * DAY);
    d.setUTCHours(9, 0, 0, 0);
    if (d.getTime() <= t + days * DAY) d.setUTCDate(d.getUTCDate() + 1);
    while (monday && d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
    return d.getTime();
  }

  it('a one-shot campaign with an audience sends one run (a child workflow), then completes', async () => {
    const { id, handle } = await start({ audience: { audienceId: await audience(3) } });
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    const final = await until(handle, (s) => s.status === 'completed');
    expect(final.runs).toMatchObject({ count: 1, active: null });
    expect(await runRows(id)).toEqual([{ number: 1, version: 1, status: 'completed' }]);
    expect(await actions(id)).toEqual(['create', 'activate', 'run-start', 'run-completed']);
    // Operators see the live version's figures from the report counters once the run has sent.
    await until(handle, (s) => s.figures?.sent === 3);
    const card = (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata'))
      .currentDetails;
    expect(card).toMatch(/\*\*figures \(v1\):\*\* 3 sent, 3 delivered, 0 unique opens, 0 unique clicks/);
    await record('child-run', handle);
  });

  it('a cancel stop with a run in flight cancels it and counts what was sent and cancelled', async () => {
    const { id, handle } = await start({ audience: { audienceId: await audience(6) }, throttle: 1 });
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    await until(handle, (s) => s.runs.active !== null);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a message or two leave
    const stopped = await handle.executeUpdate(stopUpdate, { args: [{ ...meta(), mode: 'cancel' }] });
    expect(stopped.state.status).toBe('stopped');
    expect(stopped.receipt!.sent + stopped.receipt!.cancelled).toBe(6);
    expect(stopped.receipt!.cancelled).toBeGreaterThan(0);
    const final = await until(handle, (s) => s.runs.active === null);
    expect(final.status).toBe('stopped');
    expect(await runRows(id)).toEqual([{ number: 1, version: 1, status: 'cancelled' }]);
    await record('stop-cancel-run-in-flight', handle);
  });

  it('a recurrence change fires no occurrence from before its activation: weekly Monday 09:00 → daily on Thursday 12:00 runs next on Friday 09:00', async () => {
    const t0 = await env.currentTimeMs();
    const monday = nine(t0, 1, true);
    const weekly = { kind: 'weekly' as const, at: '09:00', timezone: 'UTC', weekdays: ['mon' as const] };
    const { id, handle } = await start({
      audience: { audienceId: await audience(2) },
      schedule: { startAt: new Date(monday - 3_600_000).toISOString(), recurrence: weekly },
    });
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    await env.sleep(monday + 60_000 - t0);
    await until(handle, (s) => s.runs.count === 1 && s.runs.active === null);
    // Thursday noon: daily from now on.
    await env.sleep(monday + 3 * DAY + 3 * 3_600_000 - (await env.currentTimeMs()));
    await handle.executeUpdate(modifyUpdate, { args: [meta()] });
    const daily = { kind: 'daily' as const, at: '09:00', timezone: 'UTC' };
    await handle.executeUpdate(editUpdate, { args: [{ ...meta(), schedule: { recurrence: daily } }] });
    const activated = await handle.executeUpdate(activateUpdate, { args: [meta()] });
    // Tuesday to Thursday 09:00 precede v2's activation: none is due (before the
    // occurrences-from-activation patch, a run for Thursday started at once:
    // test/histories/recurrence-change-thursday.json). The next run is Friday 09:00.
    const friday = new Date(monday + 4 * DAY).toISOString();
    expect(activated.state.runs).toMatchObject({ count: 1, active: null });
    const card = async () =>
      (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
    expect(await card()).toContain(`**next transition:** run at ${friday}`);
    // Thursday passes with nothing sent.
    await env.sleep(monday + 4 * DAY - 60_000 - (await env.currentTimeMs()));
    expect((await handle.query(stateQuery)).runs).toMatchObject({ count: 1, active: null });
    expect(await runRows(id)).toHaveLength(1);
    await env.sleep(2 * 60_000);
    const ran = await until(handle, (s) => s.runs.count === 2 && s.runs.active === null);
    expect(ran.runs).toMatchObject({ lastRunAt: friday });
    expect(ran.runs.skipped).toBeUndefined();
    expect((await runRows(id)).map((r) => [r.number, r.version, r.status])).toEqual([
      [1, 1, 'completed'],
      [2, 2, 'completed'],
    ]);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(true);
    expect(await actions(id)).toEqual([
      'create',
      'activate',
      'start',
      'run-start',
      'run-completed',
      'modify',
      'edit',
      'activate',
      'run-start',
      'run-completed',
    ]);
  });

  it('replace means replace: a one-shot version activated while a recurring run is in flight gets its own run', async () => {
    const t0 = await env.currentTimeMs();
    const daily = { kind: 'daily' as const, at: '09:00', timezone: 'UTC' };
    const { id, handle } = await start({
      audience: { audienceId: await audience(8) },
      throttle: 1,
      schedule: { recurrence: daily },
    });
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    // Just before 09:00; then server time runs at our pace, and the run starts at 09:00.
    await env.sleep(nine(t0) - 1000 - t0);
    await until(handle, (s) => s.runs.active !== null);
    await handle.executeUpdate(modifyUpdate, { args: [meta()] });
    await handle.executeUpdate(editUpdate, {
      args: [{ ...meta(), schedule: { recurrence: { kind: 'once' } } }],
    });
    const replaced = await handle.executeUpdate(activateUpdate, { args: [meta()] });
    expect(replaced.state.runs.active).not.toBeNull();
    const after = await until(handle, (s) => s.runs.active === null && s.status !== 'live');
    // v1's run ending did not complete the campaign (it did before the run-end-live-version patch:
    // test/histories/replace-once-during-run.json); v2 ran once, then it completed.
    expect(after).toMatchObject({ status: 'completed', runs: { count: 2, lastVersion: 2 } });
    expect((await runRows(id)).map((r) => [r.version, r.status])).toEqual([
      [1, 'completed'],
      [2, 'completed'],
    ]);
    const sent = await prisma.$queryRaw<{ run_number: number; n: bigint }[]>`
      SELECT run_number, count(*) AS n FROM messages WHERE campaign_id = ${id}::uuid AND status = 'sent'
      GROUP BY run_number ORDER BY run_number`;
    expect(sent.map((r) => [r.run_number, Number(r.n)])).toEqual([
      [1, 8],
      [2, 8],
    ]);
  });

  it('a cancel stop whose run ends while it awaits cancelRun, a newer run starting meanwhile, cancels that one row first', async () => {
    // A worker of its own whose cancelRun (the real activity) waits for the test's word the first time.
    const queue = uniqueTaskQueue('gated');
    const pool = new Pool({ connectionString: testDatabaseUrl(), max: 3 });
    const real = createActivities({ prisma, pool, delivery: { webhookSecret: 'test-secret' } });
    let called!: () => void;
    const cancelCalled = new Promise<void>((resolve) => (called = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const cancelled: number[] = [];
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: queue,
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      activities: {
        ...real,
        async cancelRun(ref: Parameters<typeof real.cancelRun>[0]) {
          cancelled.push(ref.number);
          if (cancelled.length === 1) {
            called();
            await released;
          }
          return real.cancelRun(ref);
        },
      },
    });
    const running = worker.run();
    try {
      const t0 = await env.currentTimeMs();
      const id = randomUUID();
      const handle = await env.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId: campaignWorkflowId(id),
        taskQueue: queue,
        args: [
          {
            create: {
              campaignId: id,
              name: 'Race',
              type: 'scheduled',
              channel: 'email',
              content: EMAIL,
              audience: { audienceId: await audience(6) },
              throttle: 2,
              schedule: { recurrence: { kind: 'daily', at: '09:00', timezone: 'UTC' } },
              ...meta(),
            },
          },
        ],
      });
      await handle.executeUpdate(activateUpdate, { args: [meta()] });
      await env.sleep(nine(t0) - 1000 - t0);
      await until(handle, (s) => s.runs.active !== null);
      // A one-shot v2 while run 1 (v1) is in flight: its own run is due the moment run 1 ends.
      await handle.executeUpdate(modifyUpdate, { args: [meta()] });
      // v2 sends to 30 at 1 per second: run 2 is still in flight when the stop decides.
      const v2 = { audience: { audienceId: await audience(30) }, throttle: 1 };
      await handle.executeUpdate(editUpdate, {
        args: [{ ...meta(), ...v2, schedule: { recurrence: { kind: 'once' } } }],
      });
      await handle.executeUpdate(activateUpdate, { args: [meta()] });
      const stopping = handle.executeUpdate(stopUpdate, { args: [{ ...meta(), mode: 'cancel' }] });
      await cancelCalled;
      // Meanwhile run 1 ends and run 2 starts (its row appears).
      while ((await runRows(id)).length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      const stopped = await stopping;
      expect(stopped.state.status).toBe('stopped');
      expect(cancelled).toEqual([1, 2]);
      // Run 1 sent its 6; run 2's 30 were sent or cancelled, and counted.
      expect(stopped.receipt!.sent + stopped.receipt!.cancelled).toBe(36);
      expect(stopped.receipt!.cancelled).toBeGreaterThan(0);
      await until(handle, (s) => s.runs.active === null);
      expect((await runRows(id)).map((r) => [r.number, r.version, r.status])).toEqual([
        [1, 1, 'completed'],
        [2, 2, 'cancelled'],
      ]);
    } finally {
      release();
      worker.shutdown();
      await running;
      await pool.end();
    }
  });

  it('update results and the state query do not carry the 1,000 remembered request ids', async () => {
    // Measured by this test (1,000 accepted commands with API-shaped request ids, `<key id>:<32
    // hex>`; the size of each WorkflowExecutionUpdateCompleted event, protobuf-encoded): the
    // largest was 72,765 bytes when every result carried the id window, 767 bytes without it.
    // One execution throughout (no continue-as-new), so its history holds every update.
    const { handle } = await start({}, { maxHistoryEvents: 100_000 });
    const requestId = () => `${randomUUID()}:${randomUUID().replace(/-/g, '')}`;
    const ids = Array.from({ length: 1000 }, requestId);
    for (const [i, id] of ids.entries()) {
      await handle.signal(commandSignal, { type: 'edit', requestId: id, actor: 'tester', name: `edit ${i}` });
    }
    await until(handle, (s) => s.name === 'edit 999');
    const result = await handle.executeUpdate(editUpdate, { args: [{ ...meta(), name: 'measured' }] });
    const events = (await handle.fetchHistory()).events ?? [];
    const sizes = events
      .filter((e) => e.workflowExecutionUpdateCompletedEventAttributes)
      .map((e) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length);
    const largest = Math.max(...sizes);
    expect(largest).toBeLessThan(4_000);
    expect(result.state).not.toHaveProperty('recentRequestIds');
    expect(await handle.query(stateQuery)).not.toHaveProperty('recentRequestIds');
    // The window stays in the workflow: of the create's id, 1,000 signals' and this update's, the
    // newest 1,000 are remembered.
    const again = (requestId: string) =>
      handle.executeUpdate(editUpdate, { args: [{ requestId, actor: 'tester', name: 'again' }] });
    expect(await again(ids[1])).toMatchObject({ replayed: true, state: { name: 'measured' } });
    expect(await again(ids[0])).toMatchObject({ replayed: false, state: { name: 'again' } });
  });
});
