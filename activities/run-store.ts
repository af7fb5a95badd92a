/**
 * The SQL of a run's bookkeeping (see ./delivery for the rules it keeps): the run row, the audience
 * snapshot in `run_recipients`, one `messages` row per recipient, and the counts they add up to.
 */
import type { Pool, PoolClient } from 'pg';
import type { Channel } from '../domain/types';
import type { RunCounts, RunInput, RunRef } from './delivery';
import type { Outcome, Recipient } from './send';

/** Profile ids per snapshot row. */
const CHUNK = 10_000;

/** Which profile field a channel needs, for exclusion at snapshot time. */
const ADDRESS: Partial<Record<Channel, { column: string; reason: string }>> = {
  email: { column: 'email', reason: 'no email address' },
  sms: { column: 'phone', reason: 'no phone number' },
  push: { column: 'push_token', reason: 'no push token' },
};

/** Runs `work` in one transaction on a pooled connection: committed, or rolled back if it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The run's message counts: by status, and `pending` for snapshotted recipients without a message. */
export async function countMessages(
  db: Pool | PoolClient,
  { campaignId, number }: RunRef,
): Promise<RunCounts> {
  const { rows } = await db.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM messages WHERE campaign_id = $1 AND run_number = $2 GROUP BY status
     UNION ALL
     SELECT 'snapshot', coalesce(sum(cardinality(profile_ids)), 0) FROM run_recipients
      WHERE campaign_id = $1 AND run_number = $2`,
    [campaignId, number],
  );
  const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  const done = (by.sent ?? 0) + (by.delivered ?? 0) + (by.failed ?? 0) + (by.cancelled ?? 0);
  const c = {
    pending: (by.snapshot ?? 0) - done,
    sent: by.sent ?? 0,
    delivered: by.delivered ?? 0,
    failed: by.failed ?? 0,
    excluded: by.excluded ?? 0,
    cancelled: by.cancelled ?? 0,
  };
  return { recipients: Object.values(c).reduce((a, b) => a + b, 0), ...c };
}

/** Creates the run row, `running` (nothing if it exists: a retried attempt). */
export async function createRun(
  client: PoolClient,
  { campaignId, number, version }: RunInput,
): Promise<void> {
  await client.query(
    `INSERT INTO campaign_runs (campaign_id, number, version, status) VALUES ($1, $2, $3, 'running')
     ON CONFLICT DO NOTHING`,
    [campaignId, number, version.number],
  );
}

/**
 * Snapshots the version's audience: the eligible profiles into `run_recipients` (sorted chunks of
 * ids), the others straight into `messages` as `excluded`, with the reason. Idempotent.
 */
export async function snapshotAudience(client: PoolClient, input: RunInput): Promise<void> {
  const { campaignId, number, version, channel } = input;
  const audienceId = version.audience?.audienceId;
  const audience = audienceId
    ? (
        await client.query<{ filter: object | null }>(`SELECT filter FROM audiences WHERE id = $1`, [
          audienceId,
        ])
      ).rows[0]
    : undefined;
  if (!audience) return;
  const address = ADDRESS[channel];
  // `where(n)`: the audience condition, with its argument as parameter $n.
  const source = audience.filter
    ? {
        from: 'profiles p',
        where: (n: number) => `p.attributes @> $${n}::jsonb`,
        arg: JSON.stringify(audience.filter),
      }
    : {
        from: 'audience_members m JOIN profiles p ON p.id = m.profile_id',
        where: (n: number) => `m.audience_id = $${n}::uuid`,
        arg: audienceId,
      };
  const eligible = `p.subscribed${address ? ` AND p.${address.column} IS NOT NULL` : ''}`;
  // The recipients to send to, in sorted chunks of 10,000 ids…
  await client.query(
    `INSERT INTO run_recipients (campaign_id, run_number, chunk, profile_ids)
     SELECT $1, $2, (rn - 1) / ${CHUNK}, array_agg(id ORDER BY id)
     FROM (SELECT p.id, row_number() OVER (ORDER BY p.id) AS rn
           FROM ${source.from} WHERE ${source.where(3)} AND ${eligible}) s
     GROUP BY (rn - 1) / ${CHUNK}
     ON CONFLICT DO NOTHING`,
    [campaignId, number, source.arg],
  );
  // …and the excluded ones, recorded at once with the reason.
  await client.query(
    `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason)
     SELECT $1, $2, p.id, $3, 'excluded',
            CASE WHEN NOT p.subscribed THEN 'unsubscribed' ${address ? `ELSE $5` : ''} END
     FROM ${source.from} WHERE ${source.where(4)} AND NOT (${eligible})
     ON CONFLICT DO NOTHING`,
    [campaignId, number, version.number, source.arg, ...(address ? [address.reason] : [])],
  );
}

/** Records how many recipients the run has. */
export async function setRecipientCount(client: PoolClient, ref: RunRef, recipients: number): Promise<void> {
  await client.query(`UPDATE campaign_runs SET recipients = $3 WHERE campaign_id = $1 AND number = $2`, [
    ref.campaignId,
    ref.number,
    recipients,
  ]);
}

/** The first snapshot chunk after chunk `after`, if any. */
export async function chunkAfter(
  pool: Pool,
  { campaignId, number }: RunRef,
  after: number,
): Promise<{ chunk: number; profile_ids: string[] } | undefined> {
  const { rows } = await pool.query<{ chunk: number; profile_ids: string[] }>(
    `SELECT chunk, profile_ids FROM run_recipients
     WHERE campaign_id = $1 AND run_number = $2 AND chunk > $3 ORDER BY chunk LIMIT 1`,
    [campaignId, number, after],
  );
  return rows[0];
}

/** Which of `ids` already have a message in this run. */
export async function withMessage(
  pool: Pool,
  { campaignId, number }: RunRef,
  ids: string[],
): Promise<Set<string>> {
  const done = await pool.query<{ profile_id: string }>(
    `SELECT profile_id FROM messages
     WHERE campaign_id = $1 AND run_number = $2 AND profile_id = ANY($3::text[])`,
    [campaignId, number, ids],
  );
  return new Set(done.rows.map((r) => r.profile_id));
}

/**
 * Whether the run is still `running`, taking a share lock on its row until the transaction ends:
 * `cancelRun`'s update waits for the batch holding it, and no batch sends after that update.
 */
export async function lockIfRunning(client: PoolClient, { campaignId, number }: RunRef): Promise<boolean> {
  const run = await client.query<{ status: string }>(
    `SELECT status FROM campaign_runs WHERE campaign_id = $1 AND number = $2 FOR SHARE`,
    [campaignId, number],
  );
  return run.rows[0]?.status === 'running';
}

/** The profiles with these ids. */
export async function readRecipients(client: PoolClient, ids: string[]): Promise<Recipient[]> {
  const { rows } = await client.query<Recipient>(
    `SELECT id, email, phone, push_token, attributes FROM profiles WHERE id = ANY($1::text[])`,
    [ids],
  );
  return rows;
}

/** One `messages` row per outcome (a recipient that already has one keeps it). */
export async function recordOutcomes(
  client: PoolClient,
  input: RunInput,
  outcomes: Outcome[],
): Promise<void> {
  await client.query(
    `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason, rendered, sent_at)
     SELECT $1, $2, x.id, $3, x.status, x.reason, x.rendered, now()
     FROM unnest($4::text[], $5::text[], $6::text[], $7::jsonb[]) AS x(id, status, reason, rendered)
     ON CONFLICT DO NOTHING`,
    [
      input.campaignId,
      input.number,
      input.version.number,
      outcomes.map((o) => o.id),
      outcomes.map((o) => o.status),
      outcomes.map((o) => o.reason),
      outcomes.map((o) => JSON.stringify(o.rendered)),
    ],
  );
}

/** Marks the run finished: `completed` unless it was cancelled. Returns its final status. */
export async function markFinished(client: PoolClient, ref: RunRef): Promise<string | undefined> {
  const { rows } = await client.query<{ status: string }>(
    `UPDATE campaign_runs
        SET status = CASE WHEN status = 'running' THEN 'completed' ELSE status END,
            finished_at = coalesce(finished_at, now())
      WHERE campaign_id = $1 AND number = $2 RETURNING status`,
    [ref.campaignId, ref.number],
  );
  return rows[0]?.status;
}

/**
 * Marks a running run `cancelled` (waiting for a batch in flight to commit), then records every
 * recipient still without a message as `cancelled`.
 */
export async function markCancelled(client: PoolClient, ref: RunRef): Promise<void> {
  await client.query(
    `UPDATE campaign_runs SET status = 'cancelled', finished_at = now()
      WHERE campaign_id = $1 AND number = $2 AND status = 'running'`,
    [ref.campaignId, ref.number],
  );
  await client.query(
    `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason)
     SELECT r.campaign_id, r.run_number, unnest(r.profile_ids), run.version, 'cancelled', 'campaign stopped'
     FROM run_recipients r JOIN campaign_runs run ON run.campaign_id = r.campaign_id AND run.number = r.run_number
     WHERE r.campaign_id = $1 AND r.run_number = $2
     ON CONFLICT DO NOTHING`,
    [ref.campaignId, ref.number],
  );
}
