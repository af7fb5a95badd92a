-- A projection the workflow gave up on: { revision, at, reason }, written by a separate statement that
-- can succeed when the projection cannot; cleared by the next projection that succeeds.
ALTER TABLE "campaigns" ADD COLUMN "projection_error" JSONB;
