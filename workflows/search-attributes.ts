/**
 * Custom search attributes that let operators filter campaigns in the Temporal Web UI, e.g.
 * `CampaignStatus="live" AND CampaignHasDraft=true AND ExecutionStatus="Running"` (closed runs left by
 * continue-as-new keep the attributes they had). Registered by toolchain/temporal-server.ts and
 * the test harness; bundle-safe.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The keys, by what they hold; each attribute's Temporal name is `Campaign<Field>`. */
export const searchAttributes = {
  status: defineSearchAttributeKey('CampaignStatus', SearchAttributeType.KEYWORD),
  hasDraft: defineSearchAttributeKey('CampaignHasDraft', SearchAttributeType.BOOL),
  liveVersion: defineSearchAttributeKey('CampaignLiveVersion', SearchAttributeType.INT),
  type: defineSearchAttributeKey('CampaignType', SearchAttributeType.KEYWORD),
  channel: defineSearchAttributeKey('CampaignChannel', SearchAttributeType.KEYWORD),
  nextRunAt: defineSearchAttributeKey('CampaignNextRunAt', SearchAttributeType.DATETIME),
  /** True while the read model lags behind because a projection was given up on. */
  projectionFailed: defineSearchAttributeKey('CampaignProjectionFailed', SearchAttributeType.BOOL),
} as const;

/** Every key, for registering them with a Temporal server. */
export const CAMPAIGN_SEARCH_ATTRIBUTES = Object.values(searchAttributes);
