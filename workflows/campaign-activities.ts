/**
 * The activities the campaign workflow calls, each with the options that fit it, and what it hands
 * the projection. All local activities: short database work in the worker, no round trip through
 * the server (recorded as markers in history).
 */
import * as wf from '@temporalio/workflow';
import type { CampaignActivities, Projection } from '../activities';
import { viewOf, type Transition } from '../domain/lifecycle';

// A local activity: the projection is a short database write, so it runs in the worker without a
// round trip through the server (retried locally; recorded as a marker in history). Retries are
// bounded (5 attempts over about 8 s, inside the API's 10 s wait; a PostgreSQL blip is ridden out): a
// projection that cannot succeed (a constraint, a value PostgreSQL
// refuses) would otherwise hold every later command, stop and delete included, and continue-as-new
// behind it for ever. Given up on, it is recorded as the campaign's projectionFailure.
export const { projectCampaign } = wf.proxyLocalActivities<CampaignActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '4 seconds',
    maximumAttempts: 5,
  },
  summary: 'project change to PostgreSQL',
});

// The failure itself goes through a statement of its own, which touches only that column.
export const { recordProjectionFailure } = wf.proxyLocalActivities<CampaignActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', maximumAttempts: 3 },
  summary: 'record a projection given up on',
});

// cancelRun may wait for a batch in flight or a snapshot still being written before it commits.
export const { cancelRun, runCounts } = wf.proxyLocalActivities<CampaignActivities>({
  startToCloseTimeout: '5 minutes',
  summary: 'stop the run in flight',
});

// closeTriggers waits for the acceptances and the batch in flight (it locks the queue row).
export const { closeTriggers } = wf.proxyLocalActivities<CampaignActivities>({
  startToCloseTimeout: '5 minutes',
  summary: 'close the trigger queue',
});

// The dispatcher drains the trigger queue for up to a minute at a time (then reports); a worker that
// dies is noticed within the heartbeat timeout and the queue resumes on another worker.
export const { dispatchTriggers } = wf.proxyActivities<CampaignActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  summary: 'send triggered messages',
});

// A short read of the report counters for the operator card; a failure only leaves the card as it was.
export const { headlineFigures } = wf.proxyLocalActivities<CampaignActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 2 },
  summary: 'read headline figures',
});

/** What the projection needs: the state without the idempotency window, the event, the version. */
export function toProjection({ state, event, version }: Transition): Projection {
  // Every projection carries the live version (inserted once, skipped after): a version row whose
  // activation's projection was given up on is written by the next one that succeeds.
  const stored = version ?? state.live;
  return { campaign: viewOf(state), event, ...(stored ? { version: stored } : {}) };
}

/** A projection failure's reason: the activity's own error, on one line, at most 1,000 characters. */
export function failureReason(error: unknown): string {
  const cause = error instanceof wf.ActivityFailure && error.cause ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.replace(/\s+/g, ' ').trim().slice(0, 1000);
}
