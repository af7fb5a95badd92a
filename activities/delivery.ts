/**
 * Delivery activities: snapshot a run's audience into one message row per recipient, send them in
 * batches through the campaign's channel, and stop exactly when told.
 *
 * Exactly-once bookkeeping: a run's audience is snapshotted into `run_recipients` (sorted chunks of
 * profile ids, one compact row per 10,000); a recipient is pending until it has a `messages` row,
 * whose primary key (campaign, run, recipient) makes a second message impossible, even when a
 * crashed batch is retried. Stopping: every batch runs in a transaction that first takes a share
 * lock on its run row and sends only while the run is `running`; `cancelRun` updates that row
 * (waiting for a batch in flight to commit), so once it returns no further message can leave.
 *
 * This file holds the activities themselves; the SQL is in ./run-store, the sending in ./send.
 */
import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { CampaignVersion, Channel } from '../domain/types';
import type { SmtpSenderOptions } from './channels';
import {
  chunkAfter,
  countMessages,
  createRun,
  inTransaction,
  lockIfRunning,
  markCancelled,
  markFinished,
  readRecipients,
  recordOutcomes,
  setRecipientCount,
  snapshotAudience,
  withMessage,
} from './run-store';
import { createBatchSender } from './send';

/** How messages leave: channel credentials, batch sizes and concurrency. */
export interface DeliveryConfig {
  /** HMAC key that signs webhook bodies. */
  webhookSecret: string;
  /** SMTP server for email campaigns; without it email goes to the outbox. */
  smtp?: SmtpSenderOptions;
  /** Recipients per batch for the outbox (default 4000), and parallel batches (default 2). */
  outboxBatch?: number;
  outboxLanes?: number;
  /** Recipients per batch for network channels (default 50), sent with this much concurrency (10). */
  networkBatch?: number;
  networkConcurrency?: number;
  webhook?: { timeoutMs?: number; attempts?: number; minBackoffMs?: number };
}

/** Which run: campaign and run number. */
export interface RunRef {
  campaignId: string;
  number: number;
}

/** What a run's activities need: the run, the version it sends (live when it started), the channel. */
export interface RunInput extends RunRef {
  version: CampaignVersion;
  channel: Channel;
}

/** Message counts of a run; they add up to `recipients`. */
export interface RunCounts {
  recipients: number;
  pending: number;
  sent: number;
  delivered: number;
  failed: number;
  excluded: number;
  cancelled: number;
}

/** The delivery activities, sharing `pool` and the channels `config` sets up. */
export function createDeliveryActivities(pool: Pool, config: DeliveryConfig) {
  const sender = createBatchSender(config);

  return {
    /** Creates the run row and snapshots its audience: one `pending` or `excluded` row per profile. */
    async prepareRun(input: RunInput): Promise<RunCounts> {
      return inTransaction(pool, async (client) => {
        await createRun(client, input);
        await snapshotAudience(client, input);
        const c = await countMessages(client, input);
        await setRecipientCount(client, input, c.recipients);
        return c;
      });
    },

    /**
     * Sends the run's pending messages in batches, heartbeating progress. Returns when none is left,
     * when the run is no longer `running` (stopped), or when the activity is cancelled.
     */
    async deliverRun(input: RunInput): Promise<RunCounts> {
      const { version } = input;
      const ctx = Context.current();
      const network = sender.isNetwork(input.channel);
      let batch = network ? (config.networkBatch ?? 50) : (config.outboxBatch ?? 4000);
      if (version.throttle) batch = Math.min(batch, version.throttle);
      // Outbox batches run in parallel lanes (JS rendering overlaps database writes); a throttle or
      // a network channel uses one lane. Which recipients are pending is read from the database, so
      // a retried attempt resumes exactly where the last committed batch left off.
      const lanes = network || version.throttle ? 1 : (config.outboxLanes ?? 2);
      let chunk = -1;
      let pending: string[] = [];
      let finished = false;
      let sentSoFar = 0;
      let queue: Promise<unknown> = Promise.resolve();
      /** The next batch of pending ids: chunk by chunk, minus those that already have a message. */
      const nextBatch = (): Promise<string[]> => {
        const next = queue.then(async () => {
          while (!finished && pending.length === 0) {
            const row = await chunkAfter(pool, input, chunk);
            if (!row) {
              finished = true;
              break;
            }
            chunk = row.chunk;
            const sent = await withMessage(pool, input, row.profile_ids);
            pending = row.profile_ids.filter((id) => !sent.has(id));
          }
          return pending.splice(0, batch);
        });
        queue = next.catch(() => undefined);
        return next;
      };
      /** Sends one batch in a transaction, if the run is still `running`: how many were sent, or -1. */
      const sendBatch = (ids: string[]): Promise<number> =>
        inTransaction(pool, async (client) => {
          if (!(await lockIfRunning(client, input))) return -1;
          const recipients = await readRecipients(client, ids);
          await recordOutcomes(client, input, await sender.send(input, recipients));
          return recipients.length;
        });
      const lane = async () => {
        while (!ctx.cancellationSignal.aborted) {
          const ids = await nextBatch();
          if (ids.length === 0) return;
          const started = Date.now();
          const sent = await sendBatch(ids);
          if (sent < 0) {
            finished = true; // the run was stopped
            pending = [];
            return;
          }
          sentSoFar += sent;
          ctx.heartbeat({ sent: sentSoFar });
          if (version.throttle) {
            const wait = (sent / version.throttle) * 1000 - (Date.now() - started);
            if (wait > 0) await ctx.sleep(wait).catch(() => undefined);
          }
        }
      };
      await Promise.all(Array.from({ length: lanes }, lane));
      return countMessages(pool, input);
    },

    /**
     * Marks the run finished (unless it was cancelled) and returns its final counts. Registered as
     * `finishRun`, the name running histories hold (the state machine's own step is `endRun`).
     */
    async finishRun(ref: RunRef): Promise<RunCounts & { status: string }> {
      return inTransaction(pool, async (client) => {
        const status = await markFinished(client, ref);
        return { ...(await countMessages(client, ref)), status: status ?? 'completed' };
      });
    },

    /**
     * Cancels a run: waits for a batch in flight to commit, then no batch can send again; pending
     * messages become `cancelled`. Returns the counts for the stop receipt.
     */
    async cancelRun(ref: RunRef): Promise<RunCounts> {
      return inTransaction(pool, async (client) => {
        await markCancelled(client, ref);
        return countMessages(client, ref);
      });
    },

    /** Current counts of a run (for a `drain` stop receipt). */
    async runCounts(ref: RunRef): Promise<RunCounts> {
      return countMessages(pool, ref);
    },
  };
}

/** The delivery activities, as the worker registers them. */
export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
