/**
 * One run of a campaign: a child workflow (`campaign-<id>-run-<n>`) that snapshots the audience,
 * delivers in batches through a heartbeating activity pinned to the version live when the run
 * started, and records its final counts. Cancelling it (a `cancel` stop) cancels the delivery.
 */
import * as wf from '@temporalio/workflow';
import type { CampaignActivities, RunCounts, RunInput } from '../activities';

/** A run's final counts and the status its row ended with (`completed` or `cancelled`). */
export interface RunOutcome extends RunCounts {
  status: string;
}

const { prepareRun, finishRun } = wf.proxyActivities<CampaignActivities>({
  startToCloseTimeout: '10 minutes',
  summary: 'snapshot audience / record outcome',
});

const { deliverRun } = wf.proxyActivities<CampaignActivities>({
  startToCloseTimeout: '24 hours',
  // A worker that dies mid-run is noticed within this, and the run resumes on another worker.
  heartbeatTimeout: '10 seconds',
  cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  summary: 'deliver messages in batches',
});

/** The workflow id of run `number` of campaign `campaignId`. */
export function runWorkflowId(campaignId: string, number: number): string {
  return `campaign-${campaignId}-run-${number}`;
}

/** One delivery run: snapshot, deliver until done or cancelled, record the outcome. */
export async function campaignRunWorkflow(input: RunInput): Promise<RunOutcome> {
  const prepared = await prepareRun(input);
  wf.setCurrentDetails(`Run ${input.number} of v${input.version.number}: ${prepared.pending} to send`);
  try {
    await deliverRun(input);
  } catch (error) {
    if (!wf.isCancellation(error)) throw error;
  }
  // Record the outcome even when cancelled.
  const outcome = await wf.CancellationScope.nonCancellable(() =>
    finishRun({ campaignId: input.campaignId, number: input.number }),
  );
  wf.setCurrentDetails(
    `Run ${input.number} of v${input.version.number} ${outcome.status}: ${outcome.sent + outcome.delivered} sent, ` +
      `${outcome.failed} failed, ${outcome.excluded} excluded, ${outcome.cancelled} cancelled`,
  );
  return outcome;
}
