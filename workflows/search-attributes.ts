/**
 * Custom search attributes that let operators filter campaigns in the Temporal Web UI, e.g.
 * `CampaignStatus="live" AND CampaignHasDraft=true AND ExecutionStatus="Running"` (closed runs left by
 * continue-as-new keep the attributes they had). Registered by toolchain/temporal-server.ts and
 * the test harness; bundle-safe.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CampaignStatus = defineSearchAttributeKey('CampaignStatus', SearchAttributeType.KEYWORD);
export const CampaignHasDraft = defineSearchAttributeKey('CampaignHasDraft', SearchAttributeType.BOOL);
export const CampaignLiveVersion = defineSearchAttributeKey('CampaignLiveVersion', SearchAttributeType.INT);
export const CampaignType = defineSearchAttributeKey('CampaignType', SearchAttributeType.KEYWORD);
export const CampaignChannel = defineSearchAttributeKey('CampaignChannel', SearchAttributeType.KEYWORD);
export const CampaignNextRunAt = defineSearchAttributeKey('CampaignNextRunAt', SearchAttributeType.DATETIME);

export const CAMPAIGN_SEARCH_ATTRIBUTES = [
  CampaignStatus,
  CampaignHasDraft,
  CampaignLiveVersion,
  CampaignType,
  CampaignChannel,
  CampaignNextRunAt,
];
