-- The audit trail outlives a deleted campaign: history rows no longer cascade with the campaign row.
ALTER TABLE "campaign_events" DROP CONSTRAINT "campaign_events_campaign_id_fkey";
