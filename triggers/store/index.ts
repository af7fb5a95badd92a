/**
 * The trigger queue of api_triggered campaigns (`executions`, `execution_messages`,
 * `campaign_triggers`): this module reads it for the API and cancels; accepting a call is in
 * ./accept.ts, the dispatcher that drains the queue in ./dispatch.ts. No other module touches these tables.
 *
 * The stop fence is the campaign's queue row in `campaign_triggers`, created before its first call
 * (`ensureQueue`): an acceptance locks it FOR KEY SHARE in the statement that writes the execution,
 * a dispatcher batch FOR SHARE, a stop FOR UPDATE, which waits for both and blocks both. Under READ
 * COMMITTED a row lock returns the row's newest committed version, so an acceptance or a batch that
 * waited for a stop sees the queue closed, and once the stop commits none can commit after it.
 * Acceptances never wait for each other, for the dispatcher's batches, nor for its wake marks; only
 * the dispatcher going idle locks the row FOR UPDATE, for an instant (./dispatch.ts
 * `goIdle`), so an acceptance either is seen by it or reads its wake mark cleared and signals.
 */
import type { Pool } from 'pg';
import { inTransaction } from '../../readmodel/sql';
import { acceptMarketing, acceptTransactional } from './accept';
import type { CampaignCategory } from '../../domain/types';

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

/** One message of an execution, as its messages view shows it. */
export type ExecutionMessageRow = {
  recipient: number;
  profile_id: string | null;
  address: string | null;
  version: number;
  status: string;
  reason: string | null;
  rendered: Record<string, string> | null;
  created_at: Date;
  sent_at: Date | null;
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
     * An execution's messages in call order after recipient `after`, with `status` alone if given;
     * one row more than `limit` tells a next page exists.
     */
    async messages(id: string, limit: number, after = -1, status?: string): Promise<ExecutionMessageRow[]> {
      const { rows } = await pool.query<ExecutionMessageRow>(
        `SELECT recipient, profile_id, address, version, status, reason, rendered, created_at, sent_at
           FROM execution_messages
          WHERE execution_id = $1 AND recipient > $3 AND ($4::text IS NULL OR status = $4)
          ORDER BY recipient LIMIT $2`,
        [id, limit + 1, after, status ?? null],
      );
      return rows;
    },

    /**
     * Cancels an execution not finished (accepted, scheduled, or in progress): every message not yet
     * sent is `cancelled`, and its counts keep what went before. Serialised with the dispatcher's
     * batch through row locks: the queue row share-locked (a stop waits for the cancel, and the
     * cancel for the stop), then the execution's row FOR UPDATE, which waits for a batch in flight
     * that holds it (./dispatch.ts `takeQueued`, `startDueExecutions`): a message that batch sends is
     * counted sent, and a later batch re-checks the status under its lock and sends nothing more.
     * `cancelled` is false for an execution that had finished (or was cancelled before).
     */
    async cancel(id: string): Promise<{ row: ExecutionRow; cancelled: boolean } | undefined> {
      return inTransaction(pool, async (client) => {
        const found = await client.query<{ campaign_id: string }>(
          `SELECT campaign_id FROM executions WHERE id = $1`,
          [id],
        );
        if (found.rowCount === 0) return undefined;
        await client.query(`SELECT 1 FROM campaign_triggers WHERE campaign_id = $1 FOR SHARE`, [
          found.rows[0].campaign_id,
        ]);
        const { rows } = await client.query<ExecutionRow>(
          `SELECT * FROM executions WHERE id = $1 FOR UPDATE`,
          [id],
        );
        if (!['accepted', 'in_progress'].includes(rows[0].status)) return { row: rows[0], cancelled: false };
        const cancelled = await client.query<ExecutionRow>(
          `WITH m AS (UPDATE execution_messages
                         SET status = 'cancelled', reason = 'execution cancelled', callback = NULL, retry_at = NULL
                       WHERE execution_id = $1 AND status = 'queued' RETURNING 1)
           UPDATE executions SET status = 'cancelled', finished_at = now(),
                  cancelled = cancelled + (SELECT count(*) FROM m)
            WHERE id = $1 RETURNING *`,
          [id],
        );
        return { row: cancelled.rows[0], cancelled: true };
      });
    },
  };
}

export type ExecutionStore = ReturnType<typeof executionStore>;
