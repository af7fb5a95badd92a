/**
 * Domain types shared by the API, the workflow and the activities. Bundle-safe: no imports.
 */

export const CAMPAIGN_STATUSES = [
  'draft',
  'scheduled',
  'live',
  'completed',
  'stopped',
  'failed',
  'archived',
] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const CAMPAIGN_TYPES = ['scheduled', 'api_triggered'] as const;
export type CampaignType = (typeof CAMPAIGN_TYPES)[number];

export const CHANNELS = ['email', 'sms', 'push', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

/** When a campaign runs. ISO-8601 instants; both optional (start now, no end). */
export interface Schedule {
  startAt?: string;
  endAt?: string;
}

/** Who asked for a change, and the id that makes the request idempotent. */
export interface CommandMeta {
  requestId: string;
  actor: string;
}

export interface CreateCampaign extends CommandMeta {
  campaignId: string;
  name: string;
  description: string;
  type: CampaignType;
  channel: Channel;
  schedule: Schedule;
}

export type ActivateCampaign = CommandMeta;

/** The whole lifecycle state of one campaign, carried across continue-as-new. */
export interface CampaignState {
  id: string;
  name: string;
  description: string;
  type: CampaignType;
  channel: Channel;
  status: CampaignStatus;
  schedule: Schedule;
  liveVersion: number | null;
  hasDraft: boolean;
  createdBy: string;
  createdAt: string;
  /** Bumped by every accepted change; the projection only ever moves forward. */
  revision: number;
}

/** One accepted change, as recorded in the audit history. */
export interface CampaignEvent {
  requestId: string;
  action: string;
  actor: string;
  version: number | null;
  at: string;
}
