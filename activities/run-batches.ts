/**
 * The SQL of a run's batches (see ./delivery for the rules it keeps). A batch is a slice of one
 * snapshot chunk, by position: the ids never travel to the worker and back, and which of them are
 * still pending is read inside the batch's transaction, under the run's share lock, so the insert
 * that follows cannot meet a message already there (see `recordOutcomes`).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
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
