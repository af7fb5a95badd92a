/**
 * The SQL of the trigger dispatcher (see ../activities.ts for the rules it keeps): the queue's owner, the
 * batches it takes from `execution_messages`, the outcomes it records (with each execution's counts
 * and status in the same statement), scheduled marketing executions, and the stop.
 */
import type { Pool, PoolClient } from 'pg';
import type { CampaignContent } from '../../domain/types';
import { expandAudience } from './accept';

/** One queued message, with what sending it needs. */
export interface QueuedMessage {
  execution_id: string;
  recipient: number;
  version: number;
  category: string;
  profile_id: string | null;
  address: string | null;
  context: Record<string, unknown> | null;
  shared_context: Record<string, unknown>;
  email: string | null;
  phone: string | null;
  push_token: string | null;
  subscribed: boolean | null;
  attributes: Record<string, unknown> | null;
  known: boolean;
  /** Whether the message has been failing for longer than the retry window: a transient error is final. */
  expired: boolean;
}

/** A message's outcome, to record. */
export interface MessageOutcome {
  executionId: string;
  recipient: number;
  status: string;
  reason: string | null;
  rendered: Record<string, string> | null;
}

/** What recording outcomes did to their executions. */
export interface ExecutionProgress {
  id: string;
  version: number;
  created_at: Date;
  status: string;
  finished: boolean;
  sent_now: number;
}

/**
 * Makes `owner` the one dispatcher attempt allowed to send (waiting for a batch in flight of an
 * older attempt: it holds a share lock on the row), and marks the dispatcher awake. Returns the
 * queue's state: `open`, `draining` or `stopped`.
 */
export async function claimQueue(pool: Pool, campaignId: string, owner: string): Promise<string> {
  const { rows } = await pool.query<{ state: string }>(
    `INSERT INTO campaign_triggers (campaign_id, dispatch_owner, wake_at) VALUES ($1, $2, now())
     ON CONFLICT (campaign_id) DO UPDATE SET dispatch_owner = $2, wake_at = now() RETURNING state`,
    [campaignId, owner],
  );
  return rows[0].state;
}

/**
 * Takes a share lock on the queue row until the transaction ends (a stop, and a newer attempt's
 * claim, wait for it) and says whether `owner` may send: not after a `cancel` stop (`stopped`), nor
 * once a newer attempt claimed the queue (`stale`).
 */
export async function lockQueue(
  client: PoolClient,
  campaignId: string,
  owner: string,
): Promise<'send' | 'stopped' | 'stale'> {
  const { rows } = await client.query<{ state: string; dispatch_owner: string | null }>(
    `SELECT state, dispatch_owner FROM campaign_triggers WHERE campaign_id = $1 FOR SHARE`,
    [campaignId],
  );
  const queue = rows[0];
  return !queue || queue.state === 'stopped' ? 'stopped' : queue.dispatch_owner !== owner ? 'stale' : 'send';
}

/**
 * Starts the marketing executions that are due: their audience snapshotted into the queue. Their
 * rows stay locked until the batch commits: a cancel waits, and one that committed first is seen.
 */
export async function startDueExecutions(client: PoolClient, campaignId: string): Promise<number> {
  const { rows } = await client.query<{ id: string; version: number; audience_id: string }>(
    `SELECT id, version, audience_id FROM executions
      WHERE campaign_id = $1 AND status = 'accepted' AND started_at IS NULL AND audience_id IS NOT NULL
        AND (execute_at IS NULL OR execute_at <= now())
      ORDER BY execute_at NULLS FIRST LIMIT 10 FOR NO KEY UPDATE`,
    [campaignId],
  );
  for (const e of rows) {
    await expandAudience(client, { id: e.id, campaignId, version: e.version, audienceId: e.audience_id });
  }
  return rows.length;
}

/**
 * The first queued messages that are due (not waiting for a retry), in queue order, with their
 * profiles and execution context; `expired` when a message was queued longer than `windowMs` ago.
 * Their executions stay share-locked until the batch commits, and are re-checked under the lock: a
 * cancel (`./index.ts`) waits for the batch, and the batch sends nothing of an
 * execution a cancel committed first.
 */
export async function takeQueued(
  client: PoolClient,
  campaignId: string,
  limit: number,
  windowMs: number,
): Promise<QueuedMessage[]> {
  const { rows } = await client.query<QueuedMessage>(
    `SELECT m.execution_id, m.recipient, m.version, e.category, m.profile_id, m.address, m.context,
            e.context AS shared_context, p.email, p.phone, p.push_token, p.subscribed, p.attributes,
            (p.id IS NOT NULL) AS known, m.created_at < now() - make_interval(secs => $3 / 1000.0) AS expired
       FROM execution_messages m
       JOIN executions e ON e.id = m.execution_id
       LEFT JOIN profiles p ON p.id = m.profile_id
      WHERE m.campaign_id = $1 AND m.status = 'queued' AND (m.retry_at IS NULL OR m.retry_at <= now())
        AND e.status IN ('accepted', 'in_progress')
      ORDER BY m.seq LIMIT $2 FOR SHARE OF e`,
    [campaignId, limit, windowMs],
  );
  return rows;
}

/**
 * Puts off messages a transient channel error left queued: the next try after 5 s, doubling with
 * each attempt up to 5 minutes; the error kept as the reason meanwhile.
 */
export async function retryLater(
  client: PoolClient,
  transient: Array<{ executionId: string; recipient: number; error: string }>,
): Promise<void> {
  if (transient.length === 0) return;
  await client.query(
    `UPDATE execution_messages m
        SET attempts = m.attempts + 1, reason = t.error,
            -- From the failure, not from the transaction's start (its batch may have taken seconds).
            retry_at = clock_timestamp() + make_interval(secs => least(300, 5 * 2 ^ least(m.attempts, 10)))
       FROM unnest($1::uuid[], $2::int[], $3::text[]) AS t(execution_id, recipient, error)
      WHERE m.execution_id = t.execution_id AND m.recipient = t.recipient AND m.status = 'queued'`,
    [transient.map((t) => t.executionId), transient.map((t) => t.recipient), transient.map((t) => t.error)],
  );
}

/** The content of `version`, for rendering. */
export async function versionContent(
  client: PoolClient,
  campaignId: string,
  version: number,
): Promise<CampaignContent> {
  const { rows } = await client.query<{ content: CampaignContent }>(
    `SELECT content FROM campaign_versions WHERE campaign_id = $1 AND number = $2`,
    [campaignId, version],
  );
  return rows[0]?.content ?? {};
}

/**
 * Records outcomes of queued messages `source` selects (columns execution_id, recipient, status,
 * reason, rendered), and in the same statement adds them to their executions' counts, setting each
 * execution's status: finished once every accepted message has an outcome. Messages no longer
 * queued are left as they are.
 */
async function recordFrom(client: PoolClient, source: string, args: unknown[]): Promise<ExecutionProgress[]> {
  const { rows } = await client.query<ExecutionProgress>(
    `WITH o AS (${source}),
     u AS (UPDATE execution_messages m
              SET status = o.status, reason = o.reason, rendered = o.rendered,
                  sent_at = CASE WHEN o.status IN ('sent', 'delivered', 'failed') THEN now() END,
                  callback = CASE WHEN o.status = 'cancelled' THEN NULL ELSE m.callback END
             FROM o WHERE m.execution_id = o.execution_id AND m.recipient = o.recipient AND m.status = 'queued'
           RETURNING m.execution_id, m.status),
     a AS (SELECT execution_id,
                  count(*) FILTER (WHERE status = 'sent')::int AS sent,
                  count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
                  count(*) FILTER (WHERE status = 'failed')::int AS failed,
                  count(*) FILTER (WHERE status = 'excluded')::int AS excluded,
                  count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled
             FROM u GROUP BY execution_id),
     n AS (SELECT e.id, e.accepted, e.sent + a.sent AS sent, e.delivered + a.delivered AS delivered,
                  e.failed + a.failed AS failed, e.excluded + a.excluded AS excluded,
                  e.cancelled + a.cancelled AS cancelled, a.sent + a.delivered AS sent_now
             FROM executions e JOIN a ON a.execution_id = e.id)
     UPDATE executions e
        SET sent = n.sent, delivered = n.delivered, failed = n.failed, excluded = n.excluded,
            cancelled = n.cancelled, started_at = coalesce(e.started_at, now()),
            status = CASE
              WHEN n.sent + n.delivered + n.failed + n.excluded + n.cancelled < n.accepted THEN 'in_progress'
              WHEN n.cancelled > 0 THEN 'cancelled'
              WHEN n.failed > 0 AND n.sent + n.delivered = 0 THEN 'failed'
              WHEN n.failed > 0 THEN 'partially_failed'
              ELSE 'succeeded' END,
            finished_at = CASE WHEN n.sent + n.delivered + n.failed + n.excluded + n.cancelled >= n.accepted
                               THEN now() END
       FROM n WHERE e.id = n.id
     RETURNING e.id, e.version, e.created_at, e.status, e.finished_at IS NOT NULL AS finished, n.sent_now`,
    args,
  );
  return rows;
}

/** Records a batch's outcomes (see `recordFrom`). */
export function recordOutcomes(client: PoolClient, outcomes: MessageOutcome[]): Promise<ExecutionProgress[]> {
  return recordFrom(
    client,
    `SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[])
       AS o(execution_id, recipient, status, reason, rendered)`,
    [
      outcomes.map((o) => o.executionId),
      outcomes.map((o) => o.recipient),
      outcomes.map((o) => o.status),
      outcomes.map((o) => o.reason),
      outcomes.map((o) => (o.rendered ? JSON.stringify(o.rendered) : null)),
    ],
  );
}

/**
 * Closes the campaign's queue for a stop, holding its row FOR UPDATE (so it waits for every
 * acceptance and batch in flight, and none commits after it): no call is accepted any more; a
 * `cancel` stop also cancels every queued message and every marketing execution not started, a
 * `drain` those scheduled for later. Returns what the receipt counts: executions not finished, their messages sent, and the
 * messages cancelled.
 */
export async function closeQueue(
  client: PoolClient,
  campaignId: string,
  mode: 'cancel' | 'drain',
): Promise<{ executions: number; sent: number; cancelled: number }> {
  await client.query(`INSERT INTO campaign_triggers (campaign_id) VALUES ($1) ON CONFLICT DO NOTHING`, [
    campaignId,
  ]);
  await client.query(`SELECT 1 FROM campaign_triggers WHERE campaign_id = $1 FOR UPDATE`, [campaignId]);
  const { rows } = await client.query<{ executions: number; sent: number }>(
    `SELECT count(*)::int AS executions, coalesce(sum(sent + delivered), 0)::int AS sent
       FROM executions WHERE campaign_id = $1 AND status IN ('accepted', 'in_progress')`,
    [campaignId],
  );
  await client.query(`UPDATE campaign_triggers SET state = $2 WHERE campaign_id = $1`, [
    campaignId,
    mode === 'cancel' ? 'stopped' : 'draining',
  ]);
  // Marketing executions not started: those for later, and for `cancel` those already due too.
  await client.query(
    `UPDATE executions SET status = 'cancelled', finished_at = now()
      WHERE campaign_id = $1 AND status = 'accepted' AND started_at IS NULL AND audience_id IS NOT NULL
        AND ($2 OR execute_at > now())`,
    [campaignId, mode === 'cancel'],
  );
  let cancelled = 0;
  if (mode === 'cancel') {
    const progress = await recordFrom(
      client,
      `SELECT execution_id, recipient, 'cancelled'::text AS status, 'campaign stopped'::text AS reason,
              NULL::jsonb AS rendered
         FROM execution_messages WHERE campaign_id = $1 AND status = 'queued'`,
      [campaignId],
    );
    const counted = await client.query<{ n: number }>(
      `SELECT coalesce(sum(cancelled), 0)::int AS n FROM executions WHERE id = ANY($1::uuid[])`,
      [progress.map((p) => p.id)],
    );
    cancelled = counted.rows[0].n;
  }
  return { executions: rows[0].executions, sent: rows[0].sent, cancelled };
}

/** When the next execution scheduled for later, message retry or callback retry is due, if any. */
export async function nextDue(pool: Pool, campaignId: string): Promise<Date | null> {
  const { rows } = await pool.query<{ at: Date | null }>(
    `SELECT least(
       (SELECT min(execute_at) FROM executions
         WHERE campaign_id = $1 AND status = 'accepted' AND started_at IS NULL AND execute_at IS NOT NULL),
       (SELECT min(coalesce(callback_at, now())) FROM execution_messages
         WHERE campaign_id = $1 AND callback = 'pending' AND status <> 'queued'),
       (SELECT min(retry_at) FROM execution_messages WHERE campaign_id = $1 AND status = 'queued')) AS at`,
    [campaignId],
  );
  return rows[0].at;
}

/** Keeps the dispatcher's wake mark fresh while it runs, so trigger calls need not signal. */
export async function refreshWake(pool: Pool, campaignId: string): Promise<void> {
  await pool.query(`UPDATE campaign_triggers SET wake_at = now() WHERE campaign_id = $1`, [campaignId]);
}

/**
 * Lets the dispatcher go idle, in the caller's transaction, serialised with acceptances on the queue
 * row: FOR UPDATE waits for every acceptance in flight (each holds FOR KEY SHARE until it commits)
 * and holds back new ones until this commits. So an acceptance either committed before, and its
 * work is seen here (false: stay awake, the wake mark refreshed), or locks the row after, reads the
 * wake mark cleared and signals the workflow: a call accepted is always sent without another call.
 */
export async function goIdle(client: PoolClient, campaignId: string): Promise<boolean> {
  await client.query(`SELECT 1 FROM campaign_triggers WHERE campaign_id = $1 FOR UPDATE`, [campaignId]);
  const { rows } = await client.query<{ busy: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM execution_messages WHERE campaign_id = $1 AND status = 'queued'
                      AND (retry_at IS NULL OR retry_at <= now()))
         OR EXISTS (SELECT 1 FROM executions WHERE campaign_id = $1 AND status = 'accepted'
                       AND started_at IS NULL AND audience_id IS NOT NULL
                       AND (execute_at IS NULL OR execute_at <= now())) AS busy`,
    [campaignId],
  );
  await client.query(
    `UPDATE campaign_triggers SET wake_at = CASE WHEN $2 THEN now() END WHERE campaign_id = $1`,
    [campaignId, rows[0].busy],
  );
  return !rows[0].busy;
}

/** A callback due: a finished message of a call made with a `callbackUrl` (see ../callbacks.ts). */
export interface DueCallback {
  execution_id: string;
  recipient: number;
  profile_id: string | null;
  status: string;
  reason: string | null;
  sent_at: Date | null;
  callback_url: string;
  callback_attempts: number;
}

/** Up to `limit` pending callbacks of the campaign's finished messages: due ones, or all (`final`). */
export async function dueCallbacks(pool: Pool, campaignId: string, limit: number, final: boolean) {
  const { rows } = await pool.query<DueCallback>(
    `SELECT m.execution_id, m.recipient, m.profile_id, m.status, m.reason, m.sent_at, e.callback_url,
            m.callback_attempts
       FROM execution_messages m JOIN executions e ON e.id = m.execution_id
      WHERE m.campaign_id = $1 AND m.callback = 'pending' AND m.status <> 'queued'
        AND ($3 OR m.callback_at IS NULL OR m.callback_at <= now())
      ORDER BY m.seq LIMIT $2`,
    [campaignId, limit, final],
  );
  return rows;
}

/** Records a callback attempt: its new state, and when a `pending` one is due again (2^attempts s). */
export async function recordCallback(
  pool: Pool,
  executionId: string,
  recipient: number,
  state: 'sent' | 'failed' | 'pending',
): Promise<void> {
  await pool.query(
    `UPDATE execution_messages
        SET callback = $3, callback_attempts = callback_attempts + 1,
            callback_at = CASE WHEN $3 = 'pending' THEN now() + make_interval(secs => 2 ^ callback_attempts) END
      WHERE execution_id = $1 AND recipient = $2`,
    [executionId, recipient, state],
  );
}

/** Marks awake the queues with due work and no wake mark for 30 s; returns their campaigns. */
export async function markForgottenQueues(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ campaign_id: string }>(
    `UPDATE campaign_triggers t SET wake_at = now()
      WHERE t.state <> 'stopped' AND (t.wake_at IS NULL OR t.wake_at < now() - interval '30 seconds')
        AND (EXISTS (SELECT 1 FROM execution_messages m WHERE m.campaign_id = t.campaign_id
                       AND m.status = 'queued' AND (m.retry_at IS NULL OR m.retry_at <= now()))
          OR EXISTS (SELECT 1 FROM executions e WHERE e.campaign_id = t.campaign_id AND e.status = 'accepted'
                       AND e.started_at IS NULL AND e.audience_id IS NOT NULL
                       AND (e.execute_at IS NULL OR e.execute_at <= now())))
      RETURNING t.campaign_id`,
  );
  return rows.map((r) => r.campaign_id);
}
