-- Delivery attempts of a run: the attempt allowed to send (a newer attempt claims the row, waiting
-- for the batch in flight of the older one, which then stops), and the streak of attempts failed by
-- transient channel errors (for back-off, and to give up after the retry window).
ALTER TABLE "campaign_runs" ADD COLUMN "delivery_owner" TEXT;
ALTER TABLE "campaign_runs" ADD COLUMN "transient_failures" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "campaign_runs" ADD COLUMN "failing_since" TIMESTAMPTZ(3);
