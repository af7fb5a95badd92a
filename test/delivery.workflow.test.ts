/**
 * Recurring runs under the time-skipping server (real activities, real PostgreSQL): a weekly
 * campaign runs at exactly the right instants across a daylight-saving change, completes at its end
 * date, and a version activated between runs is used from the next run on.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Pool } from 'pg';
import type { PrismaClient } from '../prisma/client';
import type { campaignWorkflow } from '../workflows/campaign';
import {
  activateUpdate,
  campaignWorkflowId,
  editUpdate,
  modifyUpdate,
  projectedUpdate,
  stateQuery,
} from '../workflows/messages';
import { startTimeSkippingStack, testDatabaseUrl, type TimeSkippingStack } from './harness/stack';

const DAY = 86_400_000;

describe('recurring runs (time-skipping)', () => {
  let stack: TimeSkippingStack;
  let env: TestWorkflowEnvironment;
  let prisma: PrismaClient;
  let pool: Pool;
  let taskQueue: string;

  beforeAll(async () => {
    stack = await startTimeSkippingStack('runs');
    ({ env, prisma, taskQueue } = stack);
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 2 });
  });

  afterAll(async () => {
    await stack?.stop();
    await pool?.end();
  });

  it('runs weekly on Mondays 09:00 Europe/Paris across the DST change, switching version only for later runs', async () => {
    const prefix = randomUUID().slice(0, 8);
    const ids = [`${prefix}-a`, `${prefix}-b`];
    await pool.query(
      `INSERT INTO profiles (id, email, attributes) SELECT id, id || '@example.com', '{"firstName":"Ada"}'
       FROM unnest($1::text[]) AS id`,
      [ids],
    );
    const audienceId = randomUUID();
    await pool.query(`INSERT INTO audiences (id, name) VALUES ($1, $2)`, [audienceId, `weekly-${prefix}`]);
    await pool.query(`INSERT INTO audience_members SELECT $1, unnest($2::text[])`, [audienceId, ids]);

    const id = randomUUID();
    let n = 0;
    const meta = () => ({ requestId: `w-${++n}`, actor: 'tester' });
    const handle = await env.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(id),
      taskQueue,
      args: [
        {
          create: {
            campaignId: id,
            name: 'Weekly digest',
            type: 'scheduled',
            channel: 'email',
            content: { sender: 'news@shop.example', subject: 'Digest v1', body: 'Hi {{firstName}}' },
            schedule: {
              startAt: '2027-02-01T00:00:00Z',
              endAt: '2027-05-01T00:00:00Z',
              recurrence: { kind: 'weekly', at: '09:00', timezone: 'Europe/Paris', weekdays: ['mon'] },
            },
            audience: { audienceId },
            ...meta(),
          },
        },
      ],
    });
    await handle.executeUpdate(projectedUpdate);
    expect((await handle.executeUpdate(activateUpdate, { args: [meta()] })).state.status).toBe('scheduled');

    // Skip a week at a time; after the third run, activate version 2.
    let modified = false;
    for (let week = 0; week < 30; week++) {
      await env.sleep(7 * DAY);
      const state = await handle.executeUpdate(projectedUpdate);
      if (!modified && state.runs.count >= 3 && !state.runs.active) {
        await handle.executeUpdate(modifyUpdate, { args: [meta()] });
        await handle.executeUpdate(editUpdate, {
          args: [
            {
              ...meta(),
              content: { sender: 'news@shop.example', subject: 'Digest v2', body: 'Hello {{firstName}}' },
            },
          ],
        });
        await handle.executeUpdate(activateUpdate, { args: [meta()] });
        modified = true;
      }
      if (state.status === 'completed') break;
    }
    const final = await handle.query(stateQuery);
    expect(final.status).toBe('completed');

    const events = await prisma.campaignEvent.findMany({ where: { campaignId: id }, orderBy: { id: 'asc' } });
    // Each run starts when its timer fires: the instant, plus the few ms the workflow task takes.
    const runStarts = events.filter((e) => e.action === 'run-start').map((e) => e.at.getTime());
    const mondays = [
      [
        '2027-02-01',
        '2027-02-08',
        '2027-02-15',
        '2027-02-22',
        '2027-03-01',
        '2027-03-08',
        '2027-03-15',
        '2027-03-22',
      ].map(
        (d) => `${d}T08:00:00.000Z`, // CET: 09:00 = 08:00Z
      ),
      ['2027-03-29', '2027-04-05', '2027-04-12', '2027-04-19', '2027-04-26'].map((d) => `${d}T07:00:00.000Z`), // CEST
    ].flat();
    expect(runStarts).toHaveLength(mondays.length);
    runStarts.forEach((at, i) => expect(at - Date.parse(mondays[i])).toBeGreaterThanOrEqual(0));
    runStarts.forEach((at, i) => expect(at - Date.parse(mondays[i])).toBeLessThan(1000));
    const completedAt = events.find((e) => e.action === 'complete')!.at.getTime();
    expect(completedAt - Date.parse('2027-05-01T00:00:00.000Z')).toBeLessThan(1000);
    expect(completedAt).toBeGreaterThanOrEqual(Date.parse('2027-05-01T00:00:00.000Z'));

    const runs = await pool.query<{ number: number; version: number; status: string; recipients: number }>(
      `SELECT number, version, status, recipients FROM campaign_runs WHERE campaign_id = $1 ORDER BY number`,
      [id],
    );
    expect(runs.rows.map((r) => r.version)).toEqual([1, 1, 1, ...Array(10).fill(2)]);
    expect(runs.rows.every((r) => r.status === 'completed' && r.recipients === 2)).toBe(true);
    const messages = await pool.query<{ run_number: number; version: number; subject: string }>(
      `SELECT run_number, version, rendered->>'subject' AS subject FROM messages WHERE campaign_id = $1
       ORDER BY run_number, profile_id`,
      [id],
    );
    expect(messages.rows).toHaveLength(26); // 13 runs × 2 recipients, each exactly once
    for (const m of messages.rows) expect(m.subject).toBe(m.version === 1 ? 'Digest v1' : 'Digest v2');
  });
});
