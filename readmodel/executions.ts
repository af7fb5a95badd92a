/**
 * The trigger queue of api_triggered campaigns: the one module that writes executions as calls are
 * accepted (`executions`, `execution_messages`, `campaign_triggers`) and reads them for the API. The
 * dispatcher that drains the queue has its own SQL in activities/trigger-store.ts.
 *
 * The stop fence: accepting a call, sending a batch and closing the queue (a stop) all take the
 * campaign's trigger lock (a PostgreSQL advisory lock): shared to accept or send, exclusive to
 * close. So once `closeTriggers` has committed, no acceptance or batch still in flight can commit
 * after it, and every later one sees the queue closed. The lock is taken in a statement of its own:
 * the next statement's snapshot then sees what the stop committed.
 */
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from './sql';
import type { CampaignCategory } from '../domain/types';

/** Takes the campaign's trigger lock until the transaction ends: shared, or exclusive (a stop). */
export async function lockTriggers(client: PoolClient, campaignId: string, exclusive = false): Promise<void> {
  const fn = exclusive ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
  await client.query(`SELECT ${fn}(hashtextextended('triggers:' || $1, 0))`, [campaignId]);
}

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
  /** `open` (also before the first trigger), `draining` or `stopped`. */
  queue: string;
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

export type OutcomeRow = {
  recipient: number;
  profile_id: string | null;
  address: string | null;
  status: string;
  reason: string | null;
  sent_at: Date | null;
};

const TARGET = `SELECT c.type, c.category, c.channel, c.status, c.live_version AS "liveVersion",
                       c.start_at AS "startAt", c.end_at AS "endAt", coalesce(t.state, 'open') AS queue
                  FROM campaigns c LEFT JOIN campaign_triggers t ON t.campaign_id = c.id WHERE c.id = $1`;

/** Whether `target` takes triggers now: live, inside its start and end. */
export function isLive(target: TriggerTarget, now = new Date()): boolean {
  return (
    target.status === 'live' &&
    target.queue === 'open' &&
    (!target.startAt || target.startAt <= now) &&
    (!target.endAt || target.endAt > now)
  );
}

export function executionStore(pool: Pool) {
  return {
    /** The campaign as a trigger call sees it, if it exists. */
    async target(campaignId: string): Promise<TriggerTarget | undefined> {
      return (await pool.query<TriggerTarget>(TARGET, [campaignId])).rows[0];
    },

    /**
     * Accepts an execution durably, in one transaction under the shared trigger lock: reads the
     * campaign as it is now (and the execution, when its id was accepted before: an idempotent
     * repeat, answered as it is), lets `check` refuse the call or pin it to a version, then writes
     * the execution row with one queued (or refused: unknown profile) message per recipient, the
     * profiles the call asked to create, or (marketing, now) the audience snapshot.
     */
    async enqueue(
      id: string,
      campaignId: string,
      check: (target: TriggerTarget | undefined) => Promise<{ version: number; execution: NewExecution }>,
    ): Promise<{ row: ExecutionRow; replayed: boolean }> {
      return inTransaction(pool, async (client) => {
        await lockTriggers(client, campaignId);
        const { rows } = await client.query<{ target: TriggerTarget | null; existing: ExecutionRow | null }>(
          `SELECT (SELECT row_to_json(t) FROM (${TARGET}) t) AS target,
                  (SELECT row_to_json(e) FROM executions e WHERE e.id = $2) AS existing`,
          [campaignId, id],
        );
        const { target, existing } = rows[0];
        if (existing) return { row: revive(existing), replayed: true };
        const { version, execution } = await check(target ? reviveTarget(target) : undefined);
        const later = execution.executeAt !== null && execution.executeAt > new Date();
        if (!execution.audienceId)
          return { row: await queueRecipients(client, execution, version), replayed: false };
        const inserted = await client.query<ExecutionRow>(
          `INSERT INTO executions (id, campaign_id, version, category, status, context, audience_id,
                                   execute_at, callback_url, requested_by)
           VALUES ($1, $2, $3, $4, 'accepted', $5, $6, $7, $8, $9) RETURNING *`,
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
        if (later) return { row: inserted.rows[0], replayed: false };
        await expandAudience(client, { ...execution, audienceId: execution.audienceId, version });
        const row = await client.query<ExecutionRow>(`SELECT * FROM executions WHERE id = $1`, [
          execution.id,
        ]);
        return { row: row.rows[0], replayed: false };
      });
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

/**
 * Queues a transactional call in one statement: the execution row with its counts, and one message
 * per recipient (an unknown profile is refused unless the call creates it, which happens first).
 */
async function queueRecipients(
  client: PoolClient,
  execution: NewExecution,
  version: number,
): Promise<ExecutionRow> {
  const toCreate = execution.recipients.filter((r) => r.create && r.profileId);
  if (toCreate.length > 0) {
    await client.query(
      `INSERT INTO profiles (id, email, phone, push_token, attributes)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) ON CONFLICT DO NOTHING`,
      [
        toCreate.map((r) => r.profileId),
        toCreate.map((r) => r.create!.email),
        toCreate.map((r) => r.create!.phone),
        toCreate.map((r) => r.create!.pushToken),
        toCreate.map((r) => JSON.stringify(r.create!.attributes)),
      ],
    );
  }
  const rs = execution.recipients;
  const { rows } = await client.query<ExecutionRow>(
    `WITH r AS (
       SELECT (r.i - 1)::int AS recipient, r.profile_id, r.address, r.context,
              (r.profile_id IS NOT NULL AND p.id IS NULL) AS unknown
         FROM unnest($10::text[], $11::text[], $12::jsonb[]) WITH ORDINALITY AS r(profile_id, address, context, i)
         LEFT JOIN profiles p ON p.id = r.profile_id),
     n AS (SELECT count(*) FILTER (WHERE NOT unknown)::int AS accepted,
                  count(*) FILTER (WHERE unknown)::int AS refused FROM r),
     e AS (
       INSERT INTO executions (id, campaign_id, version, category, status, context, execute_at, callback_url,
                               requested_by, accepted, refused, finished_at)
       SELECT $1, $2, $3, $4, CASE WHEN n.accepted = 0 THEN 'failed' ELSE 'accepted' END, $5, $6, $7, $8,
              n.accepted, n.refused, CASE WHEN n.accepted = 0 THEN now() END
         FROM n RETURNING *),
     m AS (
       INSERT INTO execution_messages (execution_id, recipient, campaign_id, version, profile_id, address,
                                       context, status, reason, callback)
       SELECT $1, recipient, $2, $3, profile_id, address, context,
              CASE WHEN unknown THEN 'refused' ELSE 'queued' END,
              CASE WHEN unknown THEN 'unknown profile' END,
              CASE WHEN $9 AND NOT unknown THEN 'pending' END
         FROM r)
     SELECT * FROM e`,
    [
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
    ],
  );
  return rows[0];
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

/** A target read through row_to_json: its dates back to dates. */
function reviveTarget(t: TriggerTarget): TriggerTarget {
  return {
    ...t,
    startAt: t.startAt === null ? null : new Date(t.startAt),
    endAt: t.endAt === null ? null : new Date(t.endAt),
  };
}

export type ExecutionStore = ReturnType<typeof executionStore>;
