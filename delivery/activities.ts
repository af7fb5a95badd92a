/**
 * Delivery activities: snapshot a run's audience into one message row per recipient, send them in
 * batches through the campaign's channel, and stop exactly when told.
 *
 * Exactly-once bookkeeping: a run's audience is snapshotted into `run_recipients` (sorted chunks of
 * profile ids, one compact row per 10,000); a recipient is pending until it has a `messages` row,
 * whose primary key (campaign, run, recipient) makes a second message impossible, even when a
 * crashed batch is retried. Every batch runs in a transaction that first takes a share lock on its
 * run row and sends only while the run is `running` and the attempt still owns it:
 * - stopping: `cancelRun` upserts that row `cancelled` (waiting for a batch in flight to commit, and
 *   for a `prepareRun` still inserting it), so once it returns no further message can leave;
 * - fencing: each `deliverRun` attempt first claims the row (waiting for a batch in flight of an
 *   older attempt to commit); the older attempt, if it still runs, stops at its next batch. Two
 *   attempts of one run never send at the same time, and a retry resends nothing a live attempt
 *   sent. A batch interrupted by a crash is sent again by the retry (network channels: at least
 *   once, with a stable key per message for receivers to deduplicate).
 * `deliverRun` heartbeats on a short interval while it advances (./progress), so a slow batch does not
 * outlive the heartbeat timeout and a stuck one lets the attempt time out and retry; a cancel it did not ask for (worker shutdown) fails the attempt so
 * Temporal retries it elsewhere; transient channel errors leave recipients pending and fail the
 * attempt with a back-off of the run's own (see `TransientRetry`).
 *
 * This file holds the activities themselves; the SQL is in ./store/runs.ts, the sending
 * in ./send.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { CampaignVersion, Channel } from '../domain/types';
import type { TrackingConfig } from '../runtime/tracking-tokens';
import type { SmtpSenderOptions } from './channels';
import {
  readPending,
  recordOutcomes,
  runSlices,
  type Slice,
  claimRun,
  clearTransientFailures,
  countMessages,
  createRun,
  inTransaction,
  lockRun,
  markCancelled,
  markFinished,
  noteTransientFailure,
  runStatus,
  setRecipientCount,
  snapshotAudience,
} from './store/runs';
import { watchProgress, type ProgressWatch } from './progress';
import { createBatchSender, type BatchResult } from './send';

/**
 * How a run retries transient channel errors (a receiver down, a 5xx storm, an SMTP 4xx). The
 * attempt fails with this back-off as its next retry delay (it overrides the activity's retry
 * policy): `firstDelayMs` doubling up to `maxDelayMs`, counted over consecutive failed attempts (a
 * batch that sends restarts the count). After `windowMs` of failing without sending anything, the
 * recipients that still fail transiently are recorded `failed` (`unreachable: …`) and the run ends.
 */
export interface TransientRetry {
  /** Default 5 s. */
  firstDelayMs?: number;
  /** Default 5 minutes. */
  maxDelayMs?: number;
  /** Default 24 hours (`DELIVERY_RETRY_WINDOW`). */
  windowMs?: number;
}

/** How messages leave: channel credentials, batch sizes and concurrency. */
export interface DeliveryConfig {
  /** HMAC key that signs webhook bodies. */
  webhookSecret: string;
  /** Allow webhook targets on non-public addresses (`WEBHOOK_ALLOW_PRIVATE=true`; default false). */
  webhookAllowPrivate?: boolean;
  /** SMTP server for email campaigns; without it email goes to the outbox. */
  smtp?: SmtpSenderOptions;
  /** Recipients per batch for the outbox (default 4000), and parallel batches (default 3). */
  outboxBatch?: number;
  outboxLanes?: number;
  /** Recipients per batch for network channels (default 50), sent with this much concurrency (10). */
  networkBatch?: number;
  networkConcurrency?: number;
  webhook?: { timeoutMs?: number; attempts?: number; minBackoffMs?: number };
  transientRetry?: TransientRetry;
  /** Open/click/unsubscribe tracking added to each rendered message; none without it. */
  tracking?: TrackingConfig;
  /** How long a delivery or dispatcher goes without progress before its heartbeats stop (./progress). */
  stuckMs?: number;
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
  const retryConfig = {
    firstDelayMs: config.transientRetry?.firstDelayMs ?? 5_000,
    maxDelayMs: config.transientRetry?.maxDelayMs ?? 5 * 60_000,
    windowMs: config.transientRetry?.windowMs ?? 24 * 3_600_000,
  };

  /**
   * Sends pending recipients batch by batch (in parallel lanes for the outbox) until none is left,
   * the run is stopped, or the activity is cancelled; throws when this attempt may not go on.
   */
  async function deliverBatches(
    ctx: Context,
    input: RunInput,
    version: CampaignVersion,
    owner: string,
    progress: { sent: number },
    watch: ProgressWatch,
  ): Promise<void> {
    const network = sender.isNetwork(input.channel);
    let batch = network ? (config.networkBatch ?? 50) : (config.outboxBatch ?? 4000);
    if (version.throttle) batch = Math.min(batch, version.throttle);
    // Outbox batches run in parallel lanes (JS rendering overlaps database writes: with three, the
    // worker's thread waits less for PostgreSQL than with two); a throttle or a network channel uses
    // one lane.
    const lanes = network || version.throttle ? 1 : (config.outboxLanes ?? 3);
    // Slices are taken in order by whichever lane is free; which of a slice's recipients are still
    // pending is read in its batch's transaction, so an attempt resumes where the last committed
    // batch left off.
    const slices = await runSlices(pool, input, batch);
    let next = 0;
    let finished = false;
    /** Sends one slice in a transaction, if this attempt may: its result, or `stopped`. */
    const sendBatch = (slice: Slice) =>
      inTransaction(pool, async (client): Promise<(BatchResult & { wasFailing: boolean }) | 'stopped'> => {
        const run = await lockRun(client, input, owner);
        if (run.state === 'stopped') return 'stopped';
        if (run.state === 'stale') {
          throw ApplicationFailure.retryable(
            'a newer attempt of this delivery owns the run; this one stops',
            'StaleDeliveryAttempt',
          );
        }
        const recipients = await readPending(client, input, slice);
        if (recipients.length === 0) return { outcomes: [], transient: [], wasFailing: false };
        const giveUp = run.failingMs !== null && run.failingMs >= retryConfig.windowMs;
        const job = { ...input, source: { run: input.number } };
        const result = await sender.send(job, recipients, {
          giveUp,
          onSent: () => {
            progress.sent++;
            watch.advance();
          },
        });
        await recordOutcomes(client, input, result.outcomes, run.now);
        return { ...result, wasFailing: run.transientFailures > 0 };
      });
    const lane = async () => {
      while (!ctx.cancellationSignal.aborted && !finished && next < slices.length) {
        const slice = slices[next++];
        const started = Date.now();
        const result = await sendBatch(slice);
        if (result === 'stopped') {
          finished = true; // the run was stopped
          return;
        }
        if (!network) progress.sent += result.outcomes.length;
        watch.advance();
        const sentSome = result.outcomes.some((o) => o.status === 'sent' || o.status === 'delivered');
        if (result.transient.length > 0) {
          // The batch's other outcomes are committed; its transient recipients stay pending.
          const failures = await noteTransientFailure(pool, input, owner, sentSome);
          const delay = Math.min(retryConfig.maxDelayMs, retryConfig.firstDelayMs * 2 ** (failures - 1));
          throw ApplicationFailure.create({
            message:
              `${result.transient.length} message(s) could not be sent for now (${result.transient[0].error}); ` +
              `retrying in ${delay} ms`,
            type: 'TransientDeliveryFailure',
            nextRetryDelay: delay,
          });
        }
        if (sentSome && result.wasFailing) await clearTransientFailures(pool, input);
        if (version.throttle) {
          const read = result.outcomes.length + result.transient.length;
          const wait = (read / version.throttle) * 1000 - (Date.now() - started);
          if (wait > 0) await ctx.sleep(wait).catch(() => undefined);
          watch.advance();
        }
      }
    };
    // Every lane ends (after its batch in flight) before the attempt returns or fails.
    const halting = () =>
      lane().catch((error: unknown) => {
        finished = true; // the other lanes stop after their batch in flight
        throw error;
      });
    const ended = await Promise.allSettled(Array.from({ length: lanes }, halting));
    const failed = ended.find((e): e is PromiseRejectedResult => e.status === 'rejected');
    if (failed) throw failed.reason;
  }

  return {
    /**
     * Creates the run row and snapshots its audience: one `pending` or `excluded` row per profile.
     * A run already stopped (a `cancel` that came first) is left as it is, with nothing to send.
     */
    async prepareRun(input: RunInput): Promise<RunCounts> {
      return inTransaction(pool, async (client) => {
        if ((await createRun(client, input)) !== 'running') return countMessages(client, input);
        await snapshotAudience(client, input);
        await setRecipientCount(client, input);
        return countMessages(client, input);
      });
    },

    /**
     * Sends the run's pending messages in batches, heartbeating progress. Returns when none is left,
     * when the run is no longer `running` (stopped), or when the workflow cancelled it. Throws (a
     * retryable failure: Temporal runs the attempt again) when the worker cancelled it (shutdown)
     * while the run still runs, when a newer attempt took the run over, and after a batch that met
     * transient channel errors (with the run's back-off as the next retry delay).
     */
    async deliverRun(input: RunInput): Promise<RunCounts> {
      const { version } = input;
      const ctx = Context.current();
      const { info } = ctx;
      // This attempt's identity: a newer attempt (or a reset run) claims the run under another.
      const owner = `${info.workflowExecution?.runId ?? '-'}:${info.activityId}:${info.attempt}`;
      const progress = { sent: 0 };
      // Heartbeat while waiting for the claim and while a slow batch is in flight, not only after
      // each batch (a batch of slow sends must not outlive the heartbeat timeout), but only while
      // the delivery advances: a batch stuck for good lets the attempt time out and be retried.
      const watch = watchProgress(ctx, () => progress, { stuckMs: config.stuckMs });
      try {
        if (!(await claimRun(pool, input, owner))) return await countMessages(pool, input);
        await deliverBatches(ctx, input, version, owner, progress, watch);
        if (ctx.cancellationSignal.aborted && (await runStatus(pool, input)) === 'running') {
          if (!ctx.cancellationDetails?.cancelRequested) {
            // Not a stop: the worker is shutting down (or this attempt timed out). Fail the attempt
            // so Temporal runs it again, elsewhere; it resumes after the last committed batch.
            throw ApplicationFailure.create({
              message:
                `delivery interrupted (${String(ctx.cancellationSignal.reason?.message ?? 'cancelled')}); ` +
                `${progress.sent} sent by this attempt, the rest is sent by the next one`,
              type: 'DeliveryInterrupted',
              // At once, whatever the attempt count: the policy's back-off grows over a long run.
              nextRetryDelay: '1s',
            });
          }
          // The workflow cancelled the run without `cancelRun` first: it ends cancelled all the same.
          await inTransaction(pool, (client) => markCancelled(client, input));
        }
        return await countMessages(pool, input);
      } finally {
        watch.stop();
      }
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
     * Cancels a run: waits for a batch in flight to commit (or for `prepareRun` still inserting the
     * run), then no batch can send again; pending messages become `cancelled`. Returns the counts for
     * the stop receipt: what was really sent, and what will never be.
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
