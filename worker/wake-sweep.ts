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
import { markForgottenQueues } from '../triggers/store/dispatch';
import { campaignWorkflowId, triggersQueuedSignal } from '../workflows/messages';

export const WAKE_SWEEP_EVERY_MS = 10_000;

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
