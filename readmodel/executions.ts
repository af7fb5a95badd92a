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

/** Why a call was not accepted after all: the campaign changed while it was being checked. */
export type EnqueueRefusal = { refused: 'closed' | 'not_live' | 'version_changed'; target: TriggerTarget };

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
     * Accepts an execution pinned to `version`, durably, in one transaction under the shared trigger
     * lock: the execution row, one queued (or refused: unknown profile) message per recipient, the
     * profiles the call asked to create, or (marketing, now) the audience snapshot. Returns the
     * execution (the existing one when its id was accepted before: an idempotent repeat), or why
     * it was refused after all (stopped, no longer live, or activated anew meanwhile).
     */
    async enqueue(
      execution: NewExecution,
      version: number,
    ): Promise<{ row: ExecutionRow; replayed: boolean } | EnqueueRefusal> {
      return inTransaction(pool, async (client) => {
        await lockTriggers(client, execution.campaignId);
        const existing = await client.query<ExecutionRow>(`SELECT * FROM executions WHERE id = $1`, [
          execution.id,
        ]);
        if (existing.rows[0]) return { row: existing.rows[0], replayed: true };
        const target = (await client.query<TriggerTarget>(TARGET, [execution.campaignId])).rows[0];
        if (target.queue !== 'open') return { refused: 'closed', target };
        if (!isLive(target)) return { refused: 'not_live', target };
        if (target.liveVersion !== version) return { refused: 'version_changed', target };
        const later = execution.executeAt !== null && execution.executeAt > new Date();
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
        if (execution.audienceId) {
          if (!later) {
            await expandAudience(client, { ...execution, audienceId: execution.audienceId, version });
          }
        } else {
          await queueRecipients(client, execution, version);
        }
        const row = await client.query<ExecutionRow>(`SELECT * FROM executions WHERE id = $1`, [
          execution.id,
        ]);
        return { row: row.rows[0], replayed: false };
      });
    },

    /**
     * Asks for the campaign's dispatcher to wake: true when the caller must signal the workflow
     * (nobody asked in the last 30 s: the dispatcher refreshes the mark while it runs, so calls
     * during a busy stream signal nothing).
     */
    async markWake(campaignId: string): Promise<boolean> {
      const { rowCount } = await pool.query(
        `INSERT INTO campaign_triggers (campaign_id, wake_at) VALUES ($1, now())
         ON CONFLICT (campaign_id) DO UPDATE SET wake_at = now()
          WHERE campaign_triggers.wake_at IS NULL OR campaign_triggers.wake_at < now() - interval '30 seconds'`,
        [campaignId],
      );
      return rowCount === 1;
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

/** Queues a transactional call's recipients: unknown profiles refused unless the call creates them. */
async function queueRecipients(client: PoolClient, execution: NewExecution, version: number): Promise<void> {
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
  const { rows } = await client.query<{ queued: number; refused: number }>(
    `WITH x AS (
       INSERT INTO execution_messages (execution_id, recipient, campaign_id, version, profile_id, address,
                                       context, status, reason, callback)
       SELECT $1, r.i - 1, $2, $3, r.profile_id, r.address, r.context,
              CASE WHEN r.profile_id IS NOT NULL AND p.id IS NULL THEN 'refused' ELSE 'queued' END,
              CASE WHEN r.profile_id IS NOT NULL AND p.id IS NULL THEN 'unknown profile' END,
              CASE WHEN $7::boolean AND NOT (r.profile_id IS NOT NULL AND p.id IS NULL) THEN 'pending' END
       FROM unnest($4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY AS r(profile_id, address, context, i)
       LEFT JOIN profiles p ON p.id = r.profile_id
       RETURNING status)
     SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued,
            count(*) FILTER (WHERE status = 'refused')::int AS refused FROM x`,
    [
      execution.id,
      execution.campaignId,
      version,
      rs.map((r) => r.profileId),
      rs.map((r) => r.address),
      rs.map((r) => (r.context ? JSON.stringify(r.context) : null)),
      execution.callbackUrl !== null,
    ],
  );
  const { queued, refused } = rows[0];
  await client.query(
    `UPDATE executions SET accepted = $2, refused = $3,
            status = CASE WHEN $2 = 0 THEN 'failed' ELSE 'accepted' END,
            finished_at = CASE WHEN $2 = 0 THEN now() END
      WHERE id = $1`,
    [execution.id, queued, refused],
  );
}

export type ExecutionStore = ReturnType<typeof executionStore>;
