/**
 * The trigger queue of api_triggered campaigns: the one module that writes executions as calls are
 * accepted (`executions`, `execution_messages`, `campaign_triggers`) and reads them for the API. The
 * dispatcher that drains the queue has its own SQL in activities/trigger-store.ts.
 *
 * The stop fence is the campaign's queue row in `campaign_triggers`, created before its first call
 * (`ensureQueue`): an acceptance locks it FOR KEY SHARE in the statement that writes the execution,
 * a dispatcher batch FOR SHARE, a stop FOR UPDATE, which waits for both and blocks both. Under READ
 * COMMITTED a row lock returns the row's newest committed version, so an acceptance or a batch that
 * waited for a stop sees the queue closed, and once the stop commits none can commit after it.
 * Acceptances never wait for each other, for the dispatcher's batches, nor for its wake marks.
 */
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from './sql';
import type { CampaignCategory } from '../domain/types';

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

/** What a trigger call is checked against: the campaign, its live version, and its trigger queue. */
export interface TriggerTarget {
  type: string;
  category: CampaignCategory | null;
  channel: string;
  status: string;
  liveVersion: number | null;
  startAt: Date | null;
  endAt: Date | null;
  /** `open`, `draining` or `stopped`; null before the campaign's first call. */
  queue: string | null;
}

/** One recipient as the queue stores it. */
export interface QueuedRecipient {
  profileId: string | null;
  address: string | null;
  context: Record<string, unknown> | null;
  /** A profile to create when `profileId` is unknown. */
  create?: { email: string | null; phone: string | null; pushToken: string | null; attributes: object };
}

/** An execution to accept. */
export interface NewExecution {
  id: string;
  campaignId: string;
  category: CampaignCategory;
  context: Record<string, unknown>;
  requestedBy: string;
  callbackUrl: string | null;
  executeAt: Date | null;
  /** transactional */
  recipients: QueuedRecipient[];
  /** marketing */
  audienceId: string | null;
}

export type ExecutionRow = {
  id: string;
  campaign_id: string;
  version: number;
  category: string;
  status: string;
  execute_at: Date | null;
  callback_url: string | null;
  requested_by: string;
  accepted: number;
  refused: number;
  sent: number;
  delivered: number;
  failed: number;
  excluded: number;
  cancelled: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
};

/** An accepted call: its execution (`replayed` when its id was accepted before). */
export interface Accepted {
  row: ExecutionRow;
  replayed: boolean;
  awake: boolean;
}

/** A call refused under the lock: the campaign changed since it was checked. */
export interface Refused {
  refused: 'closed' | 'not_live' | 'version_changed';
}

export type OutcomeRow = {
  recipient: number;
  profile_id: string | null;
  address: string | null;
  status: string;
  reason: string | null;
  sent_at: Date | null;
};

const TARGET = `SELECT c.type, c.category, c.channel, c.status, c.live_version AS "liveVersion",
                       c.start_at AS "startAt", c.end_at AS "endAt", t.state AS queue
                  FROM campaigns c LEFT JOIN campaign_triggers t ON t.campaign_id = c.id WHERE c.id = $1`;

/** Whether `target` takes triggers now: live, inside its start and end. */
export function isLive(target: TriggerTarget, now = new Date()): boolean {
  return (
    target.status === 'live' &&
    (target.queue ?? 'open') === 'open' &&
    (!target.startAt || target.startAt <= now) &&
    (!target.endAt || target.endAt > now)
  );
}

export function executionStore(pool: Pool) {
  return {
    /** The campaign as a trigger call sees it, if it exists. */
    async target(campaignId: string): Promise<TriggerTarget | undefined> {
      return (await pool.query<TriggerTarget>({ name: 'trigger-target', text: TARGET, values: [campaignId] }))
        .rows[0];
    },

    /** Creates the campaign's queue row (the stop fence) before its first call; idempotent. */
    async ensureQueue(campaignId: string): Promise<void> {
      await pool.query(`INSERT INTO campaign_triggers (campaign_id) VALUES ($1) ON CONFLICT DO NOTHING`, [
        campaignId,
      ]);
    },

    /**
     * Accepts an execution pinned to `version`, durably, or says why not after all (the queue
     * closed, the campaign no longer live, or a new version live since it was checked). A
     * transactional call is one statement: the queue row locked, the campaign checked, the execution
     * and one queued (or refused: unknown profile) message per recipient written, with the profiles
     * the call creates. A marketing call is one transaction that also snapshots the audience (now).
     * `awake`: whether the dispatcher was asked to wake in the last 30 s (then no signal is needed).
     */
    async accept(execution: NewExecution, version: number): Promise<Accepted | Refused> {
      return execution.audienceId
        ? inTransaction(pool, (client) => acceptMarketing(client, execution, version))
        : acceptTransactional(pool, execution, version);
    },

    /**
     * Asks for the campaign's dispatcher to wake: true when the caller must signal the workflow
     * (nobody asked in the last 30 s: the dispatcher refreshes the mark while it runs, so calls
     * during a busy stream signal nothing). A plain UPDATE, which locks the row only when it
     * changes it, so calls never wait for the dispatcher's batch in flight (it holds a share lock).
     */
    async markWake(campaignId: string): Promise<boolean> {
      const { rows } = await pool.query<{ n: number }>(
        `WITH marked AS (
           UPDATE campaign_triggers SET wake_at = now()
            WHERE campaign_id = $1 AND (wake_at IS NULL OR wake_at < now() - interval '30 seconds')
           RETURNING 1),
         -- The first call of a campaign: its queue row does not exist yet.
         created AS (
           INSERT INTO campaign_triggers (campaign_id, wake_at)
           SELECT $1, now() WHERE NOT EXISTS (SELECT 1 FROM campaign_triggers WHERE campaign_id = $1)
           ON CONFLICT DO NOTHING RETURNING 1)
         SELECT ((SELECT count(*) FROM marked) + (SELECT count(*) FROM created))::int AS n`,
        [campaignId],
      );
      return rows[0].n > 0;
    },

    /** Forgets a wake mark whose signal could not be sent, so the next call signals again. */
    async clearWake(campaignId: string): Promise<void> {
      await pool.query(`UPDATE campaign_triggers SET wake_at = NULL WHERE campaign_id = $1`, [campaignId]);
    },

    async find(id: string): Promise<ExecutionRow | undefined> {
      return (await pool.query<ExecutionRow>(`SELECT * FROM executions WHERE id = $1`, [id])).rows[0];
    },

    /** A campaign's executions, newest first; one row more than `limit` tells a next page exists. */
    async list(
      campaignId: string,
      limit: number,
      after?: { createdAt: Date; id: string },
    ): Promise<ExecutionRow[]> {
      const { rows } = await pool.query<ExecutionRow>(
        `SELECT * FROM executions WHERE campaign_id = $1
            AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
          ORDER BY created_at DESC, id DESC LIMIT $2`,
        [campaignId, limit + 1, after?.createdAt ?? null, after?.id ?? null],
      );
      return rows;
    },

    /** An execution's per-recipient outcomes, in call order, after recipient `after`. */
    async outcomes(id: string, limit: number, after = -1): Promise<OutcomeRow[]> {
      const { rows } = await pool.query<OutcomeRow>(
        `SELECT recipient, profile_id, address, status, reason, sent_at FROM execution_messages
          WHERE execution_id = $1 AND recipient > $3 ORDER BY recipient LIMIT $2`,
        [id, limit + 1, after],
      );
      return rows;
    },

    /**
     * Cancels an execution that has not started (one scheduled for later): `cancelled` when it was
     * still waiting, otherwise its status as it is (it started, or had finished).
     */
    async cancel(id: string): Promise<ExecutionRow | undefined> {
      const { rows } = await pool.query<ExecutionRow>(
        `UPDATE executions SET status = 'cancelled', finished_at = now()
          WHERE id = $1 AND status = 'accepted' AND started_at IS NULL RETURNING *`,
        [id],
      );
      return rows[0] ?? (await this.find(id));
    },
  };
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
async function acceptTransactional(
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
async function acceptMarketing(
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

export type ExecutionStore = ReturnType<typeof executionStore>;
