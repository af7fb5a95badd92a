/**
 * The run bookkeeping's SQL against the real PostgreSQL, where ordering between transactions matters:
 * a `cancel` stop racing a run that is still snapshotting its audience waits for it and counts its
 * recipients; a run stopped before it was prepared stays empty; a batch records ids and content that
 * COPY must escape exactly, and recording it twice fails instead of doubling it.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createDeliveryActivities, type RunInput } from '../delivery/activities';
import { readPending, recordOutcomes, runSlices } from '../delivery/store/runs';
import type { Outcome } from '../delivery/send';
import type { CampaignVersion } from '../domain/types';
import { testDatabaseUrl } from './harness/stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('run bookkeeping', () => {
  let pool: Pool;
  let activities: ReturnType<typeof createDeliveryActivities>;

  beforeAll(() => {
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 6 });
    activities = createDeliveryActivities(pool, { webhookSecret: 'test-secret' });
  });

  afterAll(async () => {
    await pool?.end();
  });

  /** A run of a new campaign (no campaign row needed) over an audience of `n` fresh profiles. */
  async function runOf(n: number, names: string[] = []): Promise<RunInput> {
    const prefix = randomUUID().slice(0, 8);
    const ids = [
      ...Array.from({ length: n }, (_, i) => `${prefix}-${i}`),
      ...names.map((x) => `${prefix}-${x}`),
    ];
    await pool.query(
      `INSERT INTO profiles (id, email) SELECT id, id || '@example.com' FROM unnest($1::text[]) id`,
      [ids],
    );
    const audienceId = randomUUID();
    await pool.query(`INSERT INTO audiences (id, name) VALUES ($1, $2)`, [audienceId, `race-${prefix}`]);
    await pool.query(`INSERT INTO audience_members SELECT $1, unnest($2::text[])`, [audienceId, ids]);
    const version = {
      number: 1,
      activatedAt: new Date().toISOString(),
      activatedBy: 'tester',
      content: { sender: 'news@shop.example', subject: 'Hi', body: 'Hello' },
      schedule: {},
      audience: { audienceId },
    } as unknown as CampaignVersion;
    return { campaignId: randomUUID(), number: 1, version, channel: 'email' };
  }

  const runStatus = async ({ campaignId }: RunInput) =>
    (await pool.query(`SELECT status FROM campaign_runs WHERE campaign_id = $1`, [campaignId])).rows;

  it('cancelRun racing an uncommitted prepareRun waits for it; the receipt counts its recipients', async () => {
    const input = await runOf(5);
    const ref = { campaignId: input.campaignId, number: 1 };
    // A transaction holding chunk 0 of the snapshot makes prepareRun wait after inserting its run row.
    const blocker = await pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO run_recipients (campaign_id, run_number, chunk, profile_ids) VALUES ($1, 1, 0, '{}')`,
        [input.campaignId],
      );
      const preparing = activities.prepareRun(input);
      const waiting = async () =>
        Number(
          (
            await pool.query(
              `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%run_recipients%'`,
            )
          ).rows[0].n,
        ) > 0;
      while (!(await waiting())) await sleep(20);
      let cancelled = false;
      const cancelling = activities.cancelRun(ref).finally(() => (cancelled = true));
      await sleep(500);
      expect(cancelled).toBe(false); // the stop waits for the run row being inserted
      await blocker.query('ROLLBACK');
      expect(await preparing).toMatchObject({ recipients: 5, pending: 5 });
      const receipt = await cancelling;
      expect(receipt).toEqual({
        recipients: 5,
        pending: 0,
        sent: 0,
        delivered: 0,
        failed: 0,
        excluded: 0,
        cancelled: 5,
      });
      expect(await runStatus(input)).toEqual([{ status: 'cancelled' }]);
    } finally {
      blocker.release();
    }
  });

  it('a run cancelled before it was prepared snapshots nothing and stays cancelled', async () => {
    const input = await runOf(3);
    const ref = { campaignId: input.campaignId, number: 1 };
    expect(await activities.cancelRun(ref)).toMatchObject({ recipients: 0, cancelled: 0, pending: 0 });
    expect(await activities.prepareRun(input)).toMatchObject({ recipients: 0, pending: 0 });
    expect(await runStatus(input)).toEqual([{ status: 'cancelled' }]);
    const { rows } = await pool.query(`SELECT 1 FROM run_recipients WHERE campaign_id = $1`, [
      input.campaignId,
    ]);
    expect(rows).toHaveLength(0);
    expect(await activities.finishRun(ref)).toMatchObject({ status: 'cancelled', recipients: 0 });
  });

  it('a batch reads its pending recipients and records their messages as rendered, once', async () => {
    // Ids, reasons and content with what COPY's text format must escape.
    const input = await runOf(2, ['tab\there', 'back\\slash\\N', 'new\nline\r', 'é😀']);
    const ref = { campaignId: input.campaignId, number: 1 };
    await activities.prepareRun(input);
    const slices = await runSlices(pool, ref, 10_000);
    expect(slices).toEqual([{ chunk: 0, from: 1, to: 10_000 }]);
    const [slice] = slices;
    const rendered = { subject: 'a\tb\\c"d\ne\rf \\N', body: 'é😀' };
    const batch = async (work: (client: import('pg').PoolClient) => Promise<void>) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await work(client);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    };
    let outcomes: Outcome[] = [];
    await batch(async (client) => {
      const pending = await readPending(client, ref, slice);
      expect(pending).toHaveLength(6);
      outcomes = pending.map((r, i) =>
        i === 0
          ? { id: r.id, status: 'failed', reason: 'HTTP 400\tBad\\Request\n', rendered }
          : { id: r.id, status: 'sent', reason: null, rendered },
      );
      const { now } = (await client.query<{ now: string }>('SELECT now()::text AS now')).rows[0];
      await recordOutcomes(client, input, outcomes, now);
    });
    const { rows } = await pool.query(
      `SELECT profile_id AS id, status, reason, rendered, sent_at = created_at AS "sentNow"
         FROM messages WHERE campaign_id = $1 ORDER BY profile_id`,
      [input.campaignId],
    );
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    expect(rows).toEqual(outcomes.map((o) => ({ ...o, sentNow: true })).sort(byId));
    // Nothing is pending any more; recording the batch again fails on the key instead of doubling it.
    await batch(async (client) => expect(await readPending(client, ref, slice)).toEqual([]));
    await expect(
      batch((client) => recordOutcomes(client, input, outcomes.slice(0, 1), '2026-01-01 00:00:00+00')),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await activities.runCounts(ref)).toMatchObject({ recipients: 6, pending: 0, sent: 5, failed: 1 });
  });
});
