/**
 * The SQL of a run (see ../activities.ts for the rules it keeps): the run row, the audience
 * snapshot in `run_recipients`, one `messages` row per recipient, the counts they add up to, and
 * the batches. A batch is a slice of one snapshot chunk, by position: the ids never travel to the
 * worker and back, and which of them are still pending is read inside the batch's transaction,
 * under the run's share lock, so the insert that follows cannot meet a message already there (see
 * `recordOutcomes`).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { inTransaction } from '../../readmodel/sql';

export { inTransaction };
import type { Channel } from '../../domain/types';
import type { RunCounts, RunInput, RunRef } from '../activities';
import type { Outcome, Recipient } from '../send';

/** Profile ids per snapshot row. */
export const CHUNK = 10_000;

/** Which profile field a channel needs, for exclusion at snapshot time and again when a batch runs. */
export const ADDRESS: Partial<Record<Channel, { column: 'email' | 'phone' | 'push_token'; reason: string }>> =
  {
    email: { column: 'email', reason: 'no email address' },
    sms: { column: 'phone', reason: 'no phone number' },
    push: { column: 'push_token', reason: 'no push token' },
  };

/**
 * The run's message counts: by status, and `pending` for recipients without a message yet. Every
 * recipient ends with exactly one message row (sent, delivered, failed, excluded at snapshot time or
 * when its batch ran, or cancelled), so pending is the run's recipient count minus its rows.
 */
export async function countMessages(
  db: Pool | PoolClient,
  { campaignId, number }: RunRef,
): Promise<RunCounts> {
  const { rows } = await db.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM messages WHERE campaign_id = $1 AND run_number = $2 GROUP BY status
     UNION ALL
     SELECT '#recipients', recipients FROM campaign_runs WHERE campaign_id = $1 AND number = $2`,
    [campaignId, number],
  );
  const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  const c = {
    sent: by.sent ?? 0,
    delivered: by.delivered ?? 0,
    failed: by.failed ?? 0,
    excluded: by.excluded ?? 0,
    cancelled: by.cancelled ?? 0,
  };
  const done = Object.values(c).reduce((a, b) => a + b, 0);
  const pending = Math.max(0, (by['#recipients'] ?? 0) - done);
  return { recipients: pending + done, pending, ...c };
}

/**
 * Creates the run row, `running`, and returns the run's status: `running`, or what an earlier
 * attempt or a stop left (a `cancel` stop that came first leaves `cancelled`: nothing to prepare).
 * A concurrent `cancelRun` upsert of the same row is waited for, and waits for this one.
 */
export async function createRun(
  client: PoolClient,
  { campaignId, number, version }: RunInput,
): Promise<string> {
  await client.query(
    `INSERT INTO campaign_runs (campaign_id, number, version, status) VALUES ($1, $2, $3, 'running')
     ON CONFLICT DO NOTHING`,
    [campaignId, number, version.number],
  );
  const { rows } = await client.query<{ status: string }>(
    `SELECT status FROM campaign_runs WHERE campaign_id = $1 AND number = $2`,
    [campaignId, number],
  );
  return rows[0].status;
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

/**
 * Records how many recipients the run has, once its audience is snapshotted: the snapshot plus the
 * profiles excluded at snapshot time (nothing else has a message row yet).
 */
export async function setRecipientCount(client: PoolClient, { campaignId, number }: RunRef): Promise<void> {
  await client.query(
    `UPDATE campaign_runs SET recipients =
       (SELECT coalesce(sum(cardinality(profile_ids)), 0) FROM run_recipients WHERE campaign_id = $1 AND run_number = $2)
       + (SELECT count(*) FROM messages WHERE campaign_id = $1 AND run_number = $2)
     WHERE campaign_id = $1 AND number = $2`,
    [campaignId, number],
  );
}

/**
 * Claims the run for a delivery attempt: the attempt `owner` is the only one allowed to send from
 * now on. The UPDATE waits for a batch in flight of an older attempt (it holds a share lock on the
 * row until its transaction commits), so the new attempt reads which recipients are pending only
 * after that batch's messages are recorded, and the older attempt stops at its next batch. False when
 * the run is not `running` (stopped, finished, or cancelled before it started): nothing to send.
 */
export async function claimRun(pool: Pool, { campaignId, number }: RunRef, owner: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE campaign_runs SET delivery_owner = $3
      WHERE campaign_id = $1 AND number = $2 AND status = 'running'`,
    [campaignId, number, owner],
  );
  return rowCount === 1;
}

/** The run row as a batch sees it under its share lock. */
export interface RunLock {
  /** Whether the batch may send: `running`, and this attempt still owns the run. */
  state: 'send' | 'stopped' | 'stale';
  /** How long the run has been failing with transient errors (ms), if it is. */
  failingMs: number | null;
  transientFailures: number;
  /** The transaction's `now()` as PostgreSQL writes it: the batch's send time. */
  now: string;
}

/**
 * Takes a share lock on the run row until the transaction ends and says whether `owner` may send:
 * `cancelRun`'s update and a newer attempt's claim wait for the batch holding it, and no batch sends
 * after them (the run is then `stopped`, or this attempt `stale`).
 */
export async function lockRun(
  client: PoolClient,
  { campaignId, number }: RunRef,
  owner: string,
): Promise<RunLock> {
  const { rows } = await client.query<{
    status: string;
    delivery_owner: string | null;
    failing_ms: number | null;
    transient_failures: number;
    now: string;
  }>(
    `SELECT status, delivery_owner, transient_failures, now()::text AS now,
            (extract(epoch FROM now() - failing_since) * 1000)::float8 AS failing_ms
       FROM campaign_runs WHERE campaign_id = $1 AND number = $2 FOR SHARE`,
    [campaignId, number],
  );
  const run = rows[0];
  return {
    state: run?.status !== 'running' ? 'stopped' : run.delivery_owner !== owner ? 'stale' : 'send',
    failingMs: run?.failing_ms ?? null,
    transientFailures: run?.transient_failures ?? 0,
    now: run?.now ?? '',
  };
}

/**
 * Counts an attempt failed by transient errors (unless a newer attempt owns the run): the streak
 * restarts when the same batch also sent messages. Returns the streak's length.
 */
export async function noteTransientFailure(
  pool: Pool,
  { campaignId, number }: RunRef,
  owner: string,
  sentSome: boolean,
): Promise<number> {
  const { rows } = await pool.query<{ transient_failures: number }>(
    `UPDATE campaign_runs
        SET transient_failures = CASE WHEN $4 THEN 1 ELSE transient_failures + 1 END,
            failing_since = CASE WHEN $4 OR failing_since IS NULL THEN now() ELSE failing_since END
      WHERE campaign_id = $1 AND number = $2 AND delivery_owner = $3
      RETURNING transient_failures`,
    [campaignId, number, owner, sentSome],
  );
  return rows[0]?.transient_failures ?? 1;
}

/** Ends a streak of transient failures: a batch sent again. */
export async function clearTransientFailures(pool: Pool, { campaignId, number }: RunRef): Promise<void> {
  await pool.query(
    `UPDATE campaign_runs SET transient_failures = 0, failing_since = NULL
      WHERE campaign_id = $1 AND number = $2 AND transient_failures > 0`,
    [campaignId, number],
  );
}

/** The run's status, if it has a row. */
export async function runStatus(pool: Pool, { campaignId, number }: RunRef): Promise<string | undefined> {
  const { rows } = await pool.query<{ status: string }>(
    `SELECT status FROM campaign_runs WHERE campaign_id = $1 AND number = $2`,
    [campaignId, number],
  );
  return rows[0]?.status;
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
 * Marks the run `cancelled`, then records every recipient still without a message as `cancelled`.
 * An upsert, not an update: when `prepareRun` is inserting the run row in a transaction not yet
 * committed, an UPDATE would not see it (and the receipt would say 0/0 while a first batch could
 * still leave), whereas INSERT … ON CONFLICT waits for that transaction and then updates the row.
 * The row lock it takes also waits for a batch in flight (which holds a share lock) to commit. A run
 * stopped before `prepareRun` ran gets a `cancelled` row (version: the campaign's live version, as
 * the read model knows it), and `prepareRun` then snapshots nothing.
 */
export async function markCancelled(client: PoolClient, ref: RunRef): Promise<void> {
  await client.query(
    `INSERT INTO campaign_runs (campaign_id, number, version, status, finished_at)
     VALUES ($1, $2, coalesce((SELECT live_version FROM campaigns WHERE id = $1), 0), 'cancelled', now())
     ON CONFLICT (campaign_id, number) DO UPDATE SET status = 'cancelled', finished_at = now()
      WHERE campaign_runs.status = 'running'`,
    [ref.campaignId, ref.number],
  );
  await client.query(
    `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason)
     SELECT r.campaign_id, r.run_number, unnest(r.profile_ids), run.version, 'cancelled', 'campaign stopped'
     FROM run_recipients r JOIN campaign_runs run ON run.campaign_id = r.campaign_id AND run.number = r.run_number
     WHERE r.campaign_id = $1 AND r.run_number = $2 AND run.status = 'cancelled'
     ON CONFLICT DO NOTHING`,
    [ref.campaignId, ref.number],
  );
}

/** Positions `from`..`to` (1-based, inclusive) of snapshot chunk `chunk`. */
export interface Slice {
  chunk: number;
  from: number;
  to: number;
}

/** The run's snapshot cut into slices of at most `size` recipients, in chunk order. */
export async function runSlices(pool: Pool, { campaignId, number }: RunRef, size: number): Promise<Slice[]> {
  const { rows } = await pool.query<{ chunk: number }>(
    `SELECT chunk FROM run_recipients WHERE campaign_id = $1 AND run_number = $2 ORDER BY chunk`,
    [campaignId, number],
  );
  const slices: Slice[] = [];
  for (const { chunk } of rows) {
    // Every chunk but the last holds CHUNK ids; a slice past the end of the last one is empty.
    for (let from = 1; from <= CHUNK; from += size) {
      slices.push({ chunk, from, to: Math.min(CHUNK, from + size - 1) });
    }
  }
  return slices;
}

/** A slice's ids, as an SQL expression on parameters $1..$5 (see `sliceArgs`). */
const SLICE_IDS = `(SELECT profile_ids[$4:$5] FROM run_recipients
                    WHERE campaign_id = $1 AND run_number = $2 AND chunk = $3)::text[]`;
const sliceArgs = ({ campaignId, number }: RunRef, slice: Slice) => [
  campaignId,
  number,
  slice.chunk,
  slice.from,
  slice.to,
];

/**
 * The profiles of a slice that have no message in this run yet (a retried batch, or a run resumed
 * after a crash, skips those that have one). A recipient whose profile was deleted is not read. Two
 * lookups of the whole slice (`= ANY`, one index scan each) rather than a join with NOT EXISTS per
 * recipient, which cost PostgreSQL three times as much.
 */
export async function readPending(client: PoolClient, run: RunRef, slice: Slice): Promise<Recipient[]> {
  const args = sliceArgs(run, slice);
  const sent = await client.query<{ profile_id: string }>(
    `SELECT profile_id FROM messages
      WHERE campaign_id = $1 AND run_number = $2 AND profile_id = ANY(${SLICE_IDS})`,
    args,
  );
  const { rows } = await client.query<Recipient>(
    `SELECT id, email, phone, push_token, subscribed, attributes FROM profiles WHERE id = ANY(${SLICE_IDS})`,
    args,
  );
  if (sent.rows.length === 0) return rows;
  const done = new Set(sent.rows.map((r) => r.profile_id));
  return rows.filter((r) => !done.has(r.id));
}

/** A value as a field of COPY's text format: backslash, newline, carriage return and tab escaped. */
function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return /[\\\n\r\t]/.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : value;
}
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One `messages` row per outcome, sent at `now` (the batch transaction's), excluded ones unsent.
 * Written with COPY (one text stream, no parameter arrays to build and parse) and no ON CONFLICT: the
 * recipients were read as pending in this transaction, under the run's share lock, and nothing else
 * inserts messages of a running run meanwhile (another attempt's claim and `cancelRun` wait for the
 * lock; the other lanes have other slices). Were a row there all the same, the unique key would fail
 * the batch, which the attempt's retry reads again: never a second message. The counting trigger
 * sees these rows as it sees an INSERT's.
 */
export async function recordOutcomes(
  client: PoolClient,
  input: RunInput,
  outcomes: Outcome[],
  now: string,
): Promise<void> {
  if (outcomes.length === 0) return;
  const run = `${input.campaignId}\t${input.number}\t`;
  const version = `\t${input.version.number}\t`;
  let text = '';
  for (const o of outcomes) {
    const rendered = o.rendered === null ? null : JSON.stringify(o.rendered);
    text +=
      run +
      copyField(o.id) +
      version +
      o.status +
      '\t' +
      copyField(o.reason) +
      '\t' +
      copyField(rendered) +
      '\t' +
      (o.status === 'excluded' ? '\\N' : now) +
      '\n';
  }
  const copy = client.query(
    copyFrom(
      'COPY messages (campaign_id, run_number, profile_id, version, status, reason, rendered, sent_at) FROM STDIN',
    ),
  );
  await pipeline(Readable.from([text]), copy);
}
