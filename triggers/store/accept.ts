/**
 * Accepting a trigger call (see ./index.ts for the stop fence it keeps): a transactional call in
 * one statement, a marketing call in one transaction that may snapshot its audience, and that
 * snapshot itself (also taken by the dispatcher when a call for later is due).
 */
import type { Pool, PoolClient } from 'pg';
import type { Accepted, ExecutionRow, NewExecution, QueuedRecipient, Refused } from './index';

/**
 * Snapshots a marketing execution's audience into queued messages (ids in order, one per profile)
 * and records how many were accepted. Idempotent: a second call inserts nothing more.
 */
export async function expandAudience(
  client: PoolClient,
  execution: { id: string; campaignId: string; version: number; audienceId: string },
): Promise<number> {
  const { rows } = await client.query<{ filter: object | null }>(
    `SELECT filter FROM audiences WHERE id = $1`,
    [execution.audienceId],
  );
  const source = rows[0]?.filter
    ? { from: 'profiles p', where: 'p.attributes @> $4::jsonb', arg: JSON.stringify(rows[0].filter) }
    : {
        from: 'audience_members m JOIN profiles p ON p.id = m.profile_id',
        where: 'm.audience_id = $4::uuid',
        arg: execution.audienceId,
      };
  const inserted = await client.query(
    `INSERT INTO execution_messages (execution_id, recipient, campaign_id, version, profile_id, status, callback)
     SELECT $1, (row_number() OVER (ORDER BY p.id))::int - 1, $2, $3, p.id, 'queued',
            (SELECT CASE WHEN callback_url IS NULL THEN NULL ELSE 'pending' END FROM executions WHERE id = $1)
     FROM ${source.from} WHERE ${source.where}
     ON CONFLICT DO NOTHING`,
    [execution.id, execution.campaignId, execution.version, source.arg],
  );
  const accepted = inserted.rowCount ?? 0;
  await client.query(
    `UPDATE executions SET accepted = accepted + $2, started_at = coalesce(started_at, now()),
            status = CASE WHEN accepted + $2 = 0 THEN 'succeeded' ELSE 'in_progress' END,
            finished_at = CASE WHEN accepted + $2 = 0 THEN now() END
      WHERE id = $1`,
    [execution.id, accepted],
  );
  return accepted;
}

/** Whether the campaign still takes this call, as SQL over `q` (the locked queue row) and `c` (the campaign). */
const STILL_LIVE = `q.state = 'open' AND c.status = 'live' AND c.live_version = $3
  AND (c.start_at IS NULL OR c.start_at <= now()) AND (c.end_at IS NULL OR c.end_at > now())`;

/** The answer to an accept: the execution written (or found), or why the call was refused. */
function answer(
  r: {
    inserted: ExecutionRow | null;
    existing: ExecutionRow | null;
    queue: string | null;
    live: boolean;
    version: number | null;
    awake: boolean;
  },
  version: number,
): Accepted | Refused {
  if (r.existing) return { row: revive(r.existing), replayed: true, awake: r.awake };
  if (r.inserted) return { row: revive(r.inserted), replayed: false, awake: r.awake };
  if (r.queue !== 'open') return { refused: 'closed' };
  return { refused: r.version !== version && r.live ? 'version_changed' : 'not_live' };
}

/** A transactional call, in one statement (see `accept`). */
export async function acceptTransactional(
  pool: Pool,
  execution: NewExecution,
  version: number,
): Promise<Accepted | Refused> {
  const rs = execution.recipients;
  // A named statement: planned once per connection, not on every call.
  const { rows } = await pool.query({
    name: 'accept-transactional-trigger',
    text: `WITH q AS (SELECT state, wake_at FROM campaign_triggers WHERE campaign_id = $2 FOR KEY SHARE),
     c AS (SELECT status, live_version, start_at, end_at FROM campaigns WHERE id = $2),
     x AS (SELECT * FROM executions WHERE id = $1),
     ok AS (SELECT 1 FROM q, c WHERE ${STILL_LIVE} AND NOT EXISTS (SELECT 1 FROM x)),
     r AS (
       SELECT (r.i - 1)::int AS recipient, r.profile_id, r.address, r.context, r.creates,
              (r.profile_id IS NOT NULL AND p.id IS NULL AND NOT r.creates) AS unknown
         FROM unnest($10::text[], $11::text[], $12::jsonb[], $13::boolean[])
              WITH ORDINALITY AS r(profile_id, address, context, creates, i)
         LEFT JOIN profiles p ON p.id = r.profile_id),
     created AS (
       INSERT INTO profiles (id, email, phone, push_token, attributes)
       SELECT u.* FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::jsonb[]) AS u, ok
       ON CONFLICT DO NOTHING),
     n AS (SELECT count(*) FILTER (WHERE NOT unknown)::int AS accepted,
                  count(*) FILTER (WHERE unknown)::int AS refused FROM r),
     e AS (
       INSERT INTO executions (id, campaign_id, version, category, status, context, execute_at, callback_url,
                               requested_by, accepted, refused, finished_at)
       SELECT $1, $2, $3, $4, CASE WHEN n.accepted = 0 THEN 'failed' ELSE 'accepted' END, $5, $6, $7, $8,
              n.accepted, n.refused, CASE WHEN n.accepted = 0 THEN now() END
         FROM n, ok RETURNING *),
     m AS (
       INSERT INTO execution_messages (execution_id, recipient, campaign_id, version, profile_id, address,
                                       context, status, reason, callback)
       SELECT e.id, r.recipient, $2, $3, r.profile_id, r.address, r.context,
              CASE WHEN r.unknown THEN 'refused' ELSE 'queued' END,
              CASE WHEN r.unknown THEN 'unknown profile' END,
              CASE WHEN $9 AND NOT r.unknown THEN 'pending' END
         FROM r, e)
     SELECT (SELECT row_to_json(e) FROM e) AS inserted, (SELECT row_to_json(x) FROM x) AS existing,
            (SELECT state FROM q) AS queue, (SELECT live_version FROM c) AS version,
            coalesce((SELECT ${STILL_LIVE.replace('c.live_version = $3', 'true')} FROM q, c), false) AS live,
            coalesce((SELECT wake_at > now() - interval '30 seconds' FROM q), false) AS awake`,
    values: [
      execution.id,
      execution.campaignId,
      version,
      execution.category,
      JSON.stringify(execution.context),
      execution.executeAt,
      execution.callbackUrl,
      execution.requestedBy,
      execution.callbackUrl !== null,
      rs.map((r) => r.profileId),
      rs.map((r) => r.address),
      rs.map((r) => (r.context ? JSON.stringify(r.context) : null)),
      rs.map((r) => r.create !== undefined),
      ...profilesToCreate(rs),
    ],
  });
  return answer(rows[0], version);
}

/** The columns of the profiles a call creates (ids, email, phone, push token, attributes). */
function profilesToCreate(rs: QueuedRecipient[]): unknown[] {
  const create = rs.filter((r) => r.create && r.profileId);
  return [
    create.map((r) => r.profileId),
    create.map((r) => r.create!.email),
    create.map((r) => r.create!.phone),
    create.map((r) => r.create!.pushToken),
    create.map((r) => JSON.stringify(r.create!.attributes)),
  ];
}

/** A marketing call, in one transaction: the queue row locked first, then the checks (see `accept`). */
export async function acceptMarketing(
  client: PoolClient,
  execution: NewExecution,
  version: number,
): Promise<Accepted | Refused> {
  const locked = await client.query<{ state: string; awake: boolean }>(
    `SELECT state, coalesce(wake_at > now() - interval '30 seconds', false) AS awake
       FROM campaign_triggers WHERE campaign_id = $1 FOR KEY SHARE`,
    [execution.campaignId],
  );
  const { rows } = await client.query(
    `WITH q AS (SELECT $4::text AS state), c AS (SELECT * FROM campaigns WHERE id = $2)
     SELECT NULL AS inserted, (SELECT row_to_json(x) FROM executions x WHERE x.id = $1) AS existing,
            $4 AS queue, (SELECT live_version FROM c) AS version,
            coalesce((SELECT ${STILL_LIVE.replace('c.live_version = $3', 'true')} FROM q, c), false) AS live,
            coalesce((SELECT ${STILL_LIVE} FROM q, c), false) AS ok`,
    [execution.id, execution.campaignId, version, locked.rows[0]?.state ?? null],
  );
  const checked = { ...rows[0], awake: locked.rows[0]?.awake ?? false };
  if (checked.existing || !checked.ok) return answer(checked, version);
  await client.query(
    `INSERT INTO executions (id, campaign_id, version, category, status, context, audience_id,
                             execute_at, callback_url, requested_by)
     VALUES ($1, $2, $3, $4, 'accepted', $5, $6, $7, $8, $9)`,
    [
      execution.id,
      execution.campaignId,
      version,
      execution.category,
      JSON.stringify(execution.context),
      execution.audienceId,
      execution.executeAt,
      execution.callbackUrl,
      execution.requestedBy,
    ],
  );
  if (execution.executeAt === null || execution.executeAt <= new Date()) {
    await expandAudience(client, { ...execution, audienceId: execution.audienceId!, version });
  }
  const row = await client.query<ExecutionRow>(`SELECT * FROM executions WHERE id = $1`, [execution.id]);
  return { row: row.rows[0], replayed: false, awake: checked.awake };
}

/** An execution row read through row_to_json: its timestamps back to dates. */
function revive(row: ExecutionRow): ExecutionRow {
  const date = (v: Date | string | null) => (v === null ? null : new Date(v));
  return {
    ...row,
    execute_at: date(row.execute_at),
    created_at: date(row.created_at)!,
    started_at: date(row.started_at),
    finished_at: date(row.finished_at),
  };
}
