/**
 * The sweep behind the wake-up guarantee: a call accepted is sent without another call even when
 * the signal that should have woken its dispatcher was lost (the API could not reach Temporal, or
 * died between the commit and the signal). Every `everyMs` (10 s) the worker marks awake the queues
 * that hold due work while no dispatcher has been asked for 30 s, and signals their workflows
 * (`triggersQueued`); a signal that fails leaves the mark, so the queue is swept again 30 s later. Several
 * workers sweeping signal a queue at most once per 30 s between them (the UPDATE marks it first).
 */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { logger } from '../runtime/logger';
import { campaignWorkflowId, triggersQueuedSignal } from '../workflows/messages';

export const WAKE_SWEEP_EVERY_MS = 10_000;

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

export function startWakeSweep(pool: Pool, client: Client, everyMs = WAKE_SWEEP_EVERY_MS) {
  let running: Promise<void> | undefined;
  const sweep = async () => {
    for (const campaignId of await markForgottenQueues(pool)) {
      try {
        await client.workflow.getHandle(campaignWorkflowId(campaignId)).signal(triggersQueuedSignal);
        logger.info({ campaignId }, 'woke a trigger dispatcher whose wake-up was lost');
      } catch (error) {
        // The mark stays: the queue is swept again once it is 30 s old.
        logger.warn({ campaignId, reason: (error as Error).message }, 'waking a trigger dispatcher failed');
      }
    }
  };
  const timer = setInterval(() => {
    running ??= sweep()
      .catch((error: Error) => logger.warn({ reason: error.message }, 'wake sweep failed'))
      .finally(() => (running = undefined));
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
