/**
 * Every message the campaign workflow understands. The API (client side) and the workflow both
 * import these definitions, so names and payload types cannot drift apart. Bundle-safe.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ActivateCampaign, CampaignState } from './types';

export const TASK_QUEUE_DEFAULT = 'campaigns';

export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

/** The full lifecycle state. */
export const stateQuery = defineQuery<CampaignState>('state');

/** Review and activate the draft; returns the new state once it is projected to PostgreSQL. */
export const activateUpdate = defineUpdate<CampaignState, [ActivateCampaign]>('activate');

/**
 * Returns the state once every accepted change is projected to PostgreSQL: a read-your-writes
 * barrier for callers that only started the workflow.
 */
export const projectedUpdate = defineUpdate<CampaignState>('projected');
