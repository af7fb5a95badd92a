/**
 * The trigger dispatcher of an api_triggered campaign, and its stop.
 *
 * A trigger call costs no workflow update and no history event: the API writes the execution and
 * one queued `execution_messages` row per recipient in one transaction (triggers/store),
 * then signals the campaign workflow only when its dispatcher is not already awake. The workflow
 * runs `dispatchTriggers`, one activity that drains the queue in batches for up to a minute (then
 * reports its totals and is run again while work remains) and lingers a few seconds when the queue
 * is empty, so a stream of calls keeps one activity busy instead of adding to history.
 *
 * Exactly-once bookkeeping, as for runs: a message is sent at most once per attempt and recorded in
 * the batch's transaction; a batch holds a share lock on the queue row (a stop's FOR UPDATE waits for it),
 * sends only while the queue is not `stopped` and this attempt owns it (a newer attempt's claim
 * waits for the batch in flight); a batch interrupted by a crash is sent again by the retry (network
 * channels: at least once, keyed `<execution>:<recipient>` for receivers to deduplicate). A message a
 * transient channel error left queued is tried again on its own back-off (`retry_at`: 5 s doubling
 * to 5 minutes) while the rest of the queue goes on; once queued for longer than the retry window
 * (`DELIVERY_RETRY_WINDOW`) its transient error is final (`failed`, `unreachable: …`).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { LRUCache } from 'lru-cache';
import type { Pool, PoolClient } from 'pg';
import type { CampaignContent, Channel } from '../domain/types';
import { inTransaction } from '../readmodel/sql';
import { finishCallbacks, sendCallbacks } from './callbacks';
import type { DeliveryConfig } from '../delivery/activities';
import { createWebhookSender } from '../delivery/channels';
import { watchProgress } from '../delivery/progress';
import { createBatchSender, type Recipient } from '../delivery/send';
import {
  claimQueue,
  closeQueue,
  goIdle,
  lockQueue,
  nextDue,
  recordOutcomes,
  refreshWake,
  retryLater,
  startDueExecutions,
  takeQueued,
  versionContent,
  type ExecutionProgress,
  type MessageOutcome,
  type QueuedMessage,
} from './store/dispatch';

/** A message a transient channel error left queued, and why. */
type Transient = { executionId: string; recipient: number; error: string };

/** Which campaign's queue, and how it sends. */
export interface DispatchInput {
  campaignId: string;
  channel: Channel;
}

/** What one dispatcher activity did, for the workflow's totals and its next wake-up. */
export interface DispatchReport {
  /** Executions that finished during this activity, and the messages it sent. */
  executions: number;
  sent: number;
  lastExecution: { id: string; at: string; version: number } | null;
  /** Work remains (the activity stopped after its time slice): run it again now. */
  more: boolean;
  /** When the next scheduled execution or callback retry is due, if any. */
  nextDueAt: string | null;
}

/** How the dispatcher paces itself. */
export interface DispatchPacing {
  /** Messages per batch (default 1,000 for the outbox, 50 for network channels). */
  batch?: number;
  /** How long one activity drains before reporting (default 60 s). */
  sliceMs?: number;
  /** How long an empty queue is watched before the activity ends (default 5 s), and how often (100 ms). */
  lingerMs?: number;
  pollMs?: number;
}

export function createTriggerActivities(pool: Pool, config: DeliveryConfig, pacing: DispatchPacing = {}) {
  const sender = createBatchSender(config);
  const retryWindowMs = config.transientRetry?.windowMs ?? 24 * 3_600_000;
  // Outcome callbacks: signed like webhook messages, with the same SSRF guard.
  const callbacks = createWebhookSender({
    secret: config.webhookSecret,
    allowPrivate: config.webhookAllowPrivate ?? false,
    ...config.webhook,
    attempts: 1, // retried by the callback's own back-off (./callbacks)
  });
  const contents = new LRUCache<string, CampaignContent>({ max: 1000 });
  /**
   * A version's content: immutable, so read once per worker. Read on the batch's own connection:
   * nothing inside a transaction takes a second connection from the pool (ten batches waiting for
   * one would hold the whole pool for ever).
   */
  async function contentOf(
    client: PoolClient,
    campaignId: string,
    version: number,
  ): Promise<CampaignContent> {
    const key = `${campaignId}:${version}`;
    let content = contents.get(key);
    if (!content) {
      content = await versionContent(client, campaignId, version);
      contents.set(key, content);
    }
    return content;
  }

  /** Sends one execution's queued messages: its outcomes, and the messages a transient error left queued. */
  async function sendExecution(
    input: DispatchInput,
    content: CampaignContent,
    executionId: string,
    messages: QueuedMessage[],
    onSent: () => void,
  ) {
    const outcomes: MessageOutcome[] = [];
    const transient: Transient[] = [];
    const { version, category } = messages[0];
    const refused = messages.filter((m) => m.profile_id !== null && !m.known);
    for (const m of refused) {
      outcomes.push({
        executionId,
        recipient: m.recipient,
        status: 'excluded',
        reason: 'profile deleted',
        rendered: null,
      });
    }
    const job = {
      campaignId: input.campaignId,
      version: { number: version, content, schedule: {}, activatedAt: '', activatedBy: '', basedOn: null },
      channel: input.channel,
      source: { execution: executionId },
      consent: category !== 'transactional',
    };
    // Queued longer than the retry window: a transient error is final (`giveUp`).
    for (const giveUp of [false, true]) {
      const recipients = messages
        .filter((m) => !refused.includes(m) && m.expired === giveUp)
        .map((m) => toRecipient(input.channel, m));
      if (recipients.length === 0) continue;
      const result = await sender.send(job, recipients, { onSent, giveUp });
      for (const o of result.outcomes) {
        outcomes.push({
          executionId,
          recipient: Number(o.id),
          status: o.status,
          reason: o.reason,
          rendered: o.rendered,
        });
      }
      transient.push(
        ...result.transient.map((t) => ({ executionId, recipient: Number(t.id), error: t.error })),
      );
      if (transient.length > 0) break;
    }
    return { outcomes, transient };
  }

  /**
   * Sends queued messages, grouped by execution. Over the network, executions go in waves of about
   * `networkConcurrency` messages sent at once (a one-recipient call does not wait for the one
   * before it); after a wave that met a transient channel error the batch stops (the channel is
   * failing for now). Returns the outcomes and the messages left queued by transient errors.
   */
  async function sendAll(
    client: PoolClient,
    input: DispatchInput,
    queued: QueuedMessage[],
    onSent: () => void,
  ) {
    const byExecution = new Map<string, QueuedMessage[]>();
    for (const m of queued) byExecution.set(m.execution_id, [...(byExecution.get(m.execution_id) ?? []), m]);
    // The versions' contents first, one query at a time on the batch's connection.
    const byVersion = new Map<number, CampaignContent>();
    for (const { version } of queued) {
      if (!byVersion.has(version)) byVersion.set(version, await contentOf(client, input.campaignId, version));
    }
    const width = sender.isNetwork(input.channel) ? (config.networkConcurrency ?? 10) : 1;
    const waves: Array<Array<[string, QueuedMessage[]]>> = [];
    let size = Infinity;
    for (const group of byExecution) {
      if (size + group[1].length > width) {
        waves.push([]);
        size = 0;
      }
      waves[waves.length - 1].push(group);
      size += group[1].length;
    }
    const outcomes: MessageOutcome[] = [];
    const transient: Transient[] = [];
    for (const wave of waves) {
      const sent = await Promise.all(
        wave.map(([id, messages]) =>
          sendExecution(input, byVersion.get(messages[0].version)!, id, messages, onSent),
        ),
      );
      for (const r of sent) {
        outcomes.push(...r.outcomes);
        transient.push(...r.transient);
      }
      if (transient.length > 0) break;
    }
    return { outcomes, transient };
  }

  return {
    /**
     * Drains the campaign's trigger queue batch by batch (see the file comment). Returns after its
     * time slice, once the queue stayed empty for the linger time, after a `cancel` stop, or when
     * the workflow cancels it; throws (retried by Temporal) when a newer attempt took the queue
     * over, and when the worker shuts down.
     */
    async dispatchTriggers(input: DispatchInput): Promise<DispatchReport> {
      const ctx = Context.current();
      const { info } = ctx;
      const owner = `${info.workflowExecution?.runId ?? '-'}:${info.activityId}:${info.attempt}`;
      const network = sender.isNetwork(input.channel);
      const batch = pacing.batch ?? (network ? 50 : 1000);
      const sliceMs = pacing.sliceMs ?? 60_000;
      const lingerMs = pacing.lingerMs ?? 5_000;
      const pollMs = pacing.pollMs ?? 100;
      const report: DispatchReport = {
        executions: 0,
        sent: 0,
        lastExecution: null,
        more: false,
        nextDueAt: null,
      };
      // Heartbeats while the work advances (a message sent, a batch committed, a poll), not longer.
      const watch = watchProgress(ctx, () => report.sent, { everyMs: 1000, stuckMs: config.stuckMs });
      // Callbacks go out beside delivery, one round at a time: a slow receiver never holds a batch.
      // Looked for after a batch with outcomes, and otherwise (retries coming due) once a second.
      let callbacksInFlight: Promise<unknown> | undefined;
      let lookedAt = 0;
      const kickCallbacks = (outcomes: boolean) => {
        if (callbacksInFlight || (!outcomes && Date.now() - lookedAt < 1000)) return;
        lookedAt = Date.now();
        callbacksInFlight = sendCallbacks(pool, callbacks, input.campaignId)
          .catch(() => undefined)
          .finally(() => (callbacksInFlight = undefined));
      };
      try {
        if ((await claimQueue(pool, input.campaignId, owner)) === 'stopped') return report;
        const started = Date.now();
        let idleSince = Date.now();
        let wokeAt = Date.now();
        while (!ctx.cancellationSignal.aborted) {
          if (Date.now() - started > sliceMs) {
            report.more = true;
            break;
          }
          const done = await inTransaction(pool, async (client) => {
            const lock = await lockQueue(client, input.campaignId, owner);
            if (lock !== 'send') return lock;
            await startDueExecutions(client, input.campaignId);
            const queued = await takeQueued(client, input.campaignId, batch, retryWindowMs);
            if (queued.length === 0) return { progress: [] as ExecutionProgress[], taken: 0 };
            const sent = await sendAll(client, input, queued, () => watch.advance());
            const progress = await recordOutcomes(client, sent.outcomes);
            // Left queued, each tried again on its own back-off; the rest of the queue goes on.
            await retryLater(client, sent.transient);
            return { progress, taken: queued.length };
          });
          watch.advance();
          if (done === 'stopped') break;
          if (done === 'stale') {
            throw ApplicationFailure.retryable(
              'a newer dispatcher attempt owns the queue',
              'StaleDispatcher',
            );
          }
          for (const p of done.progress) {
            report.sent += p.sent_now;
            if (!p.finished) continue;
            report.executions += 1;
            const at = p.created_at.toISOString();
            if (!report.lastExecution || at >= report.lastExecution.at) {
              report.lastExecution = { id: p.id, at, version: p.version };
            }
          }
          kickCallbacks(done.progress.length > 0);
          if (done.taken > 0) {
            idleSince = Date.now();
            if (Date.now() - wokeAt > 5_000) {
              await refreshWake(pool, input.campaignId);
              wokeAt = Date.now();
            }
            continue;
          }
          if (Date.now() - idleSince > lingerMs) {
            const idle = await inTransaction(pool, (client) => goIdle(client, input.campaignId));
            if (idle) break;
          }
          await new Promise((resolve) => setTimeout(resolve, pollMs));
        }
        if (ctx.cancellationSignal.aborted && !ctx.cancellationDetails?.cancelRequested) {
          // The worker is shutting down: the next attempt resumes after the last committed batch.
          throw ApplicationFailure.create({
            message: 'dispatch interrupted',
            type: 'DeliveryInterrupted',
            nextRetryDelay: '1s',
          });
        }
        report.nextDueAt = (await nextDue(pool, input.campaignId))?.toISOString() ?? null;
        return report;
      } finally {
        await callbacksInFlight;
        watch.stop();
      }
    },

    /**
     * Closes the campaign's trigger queue for a stop: once it returns, no call is accepted and (for
     * `cancel`) no queued message leaves, and no outcome callback is left pending; the counts go in
     * the stop receipt.
     */
    async closeTriggers(input: { campaignId: string; mode: 'cancel' | 'drain' }) {
      const counted = await inTransaction(pool, (client) => closeQueue(client, input.campaignId, input.mode));
      // No dispatcher runs after a cancel stop: the callbacks of messages that went out go now.
      if (input.mode === 'cancel')
        await finishCallbacks(pool, callbacks, input.campaignId).catch(() => undefined);
      return counted;
    },
  };
}

/** A queued message as the batch sender takes it: its profile, or its address alone. */
function toRecipient(channel: Channel, m: QueuedMessage): Recipient {
  const address = (field: 'email' | 'sms' | 'push') => (channel === field && m.address ? m.address : null);
  return {
    id: String(m.recipient),
    profileId: m.profile_id,
    context: { ...m.shared_context, ...(m.context ?? {}) },
    email: address('email') ?? m.email,
    phone: address('sms') ?? m.phone,
    push_token: address('push') ?? m.push_token,
    subscribed: m.subscribed ?? true,
    attributes: m.attributes ?? {},
  };
}

/** The trigger activities, as the worker registers them. */
export type TriggerActivities = ReturnType<typeof createTriggerActivities>;
