/**
 * The SQL of a run's batches (see ./delivery for the rules it keeps). A batch is a slice of one
 * snapshot chunk, by position: the ids never travel to the worker and back, and which of them are
 * still pending is read inside the batch's transaction, under the run's share lock, so the insert
 * that follows cannot meet a message already there (see `recordOutcomes`).
 */
import type { Pool, PoolClient } from 'pg';
import type { RunInput, RunRef } from './delivery';
import { CHUNK } from './run-store';
import type { Outcome, Recipient } from './send';

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

/**
 * The profiles of a slice that have no message in this run yet (a retried batch, or a run resumed
 * after a crash, skips those that have one). A recipient whose profile was deleted is not read.
 * `OFFSET 0` keeps NOT EXISTS a per-recipient probe of the primary key: as an anti join, the planner
 * (misled by a run's messages not yet analysed) read all of the run's messages for every recipient.
 */
export async function readPending(client: PoolClient, { campaignId, number }: RunRef, slice: Slice) {
  const { rows } = await client.query<Recipient>(
    `SELECT p.id, p.email, p.phone, p.push_token, p.subscribed, p.attributes
       FROM run_recipients r
       CROSS JOIN LATERAL unnest(r.profile_ids[$4:$5]) AS x(id)
       JOIN profiles p ON p.id = x.id
      WHERE r.campaign_id = $1 AND r.run_number = $2 AND r.chunk = $3
        AND NOT EXISTS (SELECT FROM messages m
                         WHERE m.campaign_id = $1 AND m.run_number = $2 AND m.profile_id = x.id OFFSET 0)`,
    [campaignId, number, slice.chunk, slice.from, slice.to],
  );
  return rows;
}

/**
 * One `messages` row per outcome. A plain INSERT, without ON CONFLICT (its speculative insertion
 * cost a sixth of the statement): the recipients were read as pending in this transaction, under the
 * run's share lock, and nothing else inserts messages of a running run meanwhile (another attempt's
 * claim and `cancelRun` wait for the lock; the other lane has other slices). Were a row there all the
 * same, the unique key would fail the batch, which the attempt's retry reads again: never a second
 * message.
 */
export async function recordOutcomes(
  client: PoolClient,
  input: RunInput,
  outcomes: Outcome[],
): Promise<void> {
  if (outcomes.length === 0) return;
  await client.query(
    `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason, rendered, sent_at)
     SELECT $1, $2, x.id, $3, x.status, x.reason, x.rendered,
            CASE WHEN x.status = 'excluded' THEN NULL ELSE now() END
     FROM unnest($4::text[], $5::text[], $6::text[], $7::jsonb[]) AS x(id, status, reason, rendered)`,
    [
      input.campaignId,
      input.number,
      input.version.number,
      outcomes.map((o) => o.id),
      outcomes.map((o) => o.status),
      outcomes.map((o) => o.reason),
      outcomes.map((o) => (o.rendered === null ? null : JSON.stringify(o.rendered))),
    ],
  );
}
