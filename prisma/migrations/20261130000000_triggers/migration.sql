-- API-triggered campaigns: a category per campaign, and the durable trigger queue.

-- transactional | marketing, for api_triggered campaigns.
ALTER TABLE "campaigns" ADD COLUMN "category" TEXT;

-- One row per campaign that was ever triggered or stopped: whether it still takes triggers (open,
-- draining, stopped), when its dispatcher was last asked to wake, and which dispatcher attempt owns it.
CREATE TABLE "campaign_triggers" (
    "campaign_id" UUID NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'open',
    "wake_at" TIMESTAMPTZ(3),
    "dispatch_owner" TEXT,
    CONSTRAINT "campaign_triggers_pkey" PRIMARY KEY ("campaign_id")
);

-- One row per accepted trigger call, pinned to the version live when it was accepted.
CREATE TABLE "executions" (
    "id" UUID NOT NULL,
    "campaign_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "category" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "context" JSONB NOT NULL DEFAULT '{}',
    "audience_id" UUID,
    "execute_at" TIMESTAMPTZ(3),
    "callback_url" TEXT,
    "requested_by" TEXT NOT NULL,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "refused" INTEGER NOT NULL DEFAULT 0,
    "sent" INTEGER NOT NULL DEFAULT 0,
    "delivered" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "excluded" INTEGER NOT NULL DEFAULT 0,
    "cancelled" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "executions_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "executions_campaign_id_created_at_id_idx" ON "executions"("campaign_id", "created_at", "id");
CREATE INDEX "executions_campaign_id_status_execute_at_idx" ON "executions"("campaign_id", "status", "execute_at");

-- One row per (execution, recipient): queued at acceptance (the queue itself), then its outcome.
CREATE TABLE "execution_messages" (
    "execution_id" UUID NOT NULL,
    "recipient" INTEGER NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "campaign_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "profile_id" TEXT,
    "address" TEXT,
    "context" JSONB,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "rendered" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "retry_at" TIMESTAMPTZ(3),
    "callback" TEXT,
    "callback_attempts" INTEGER NOT NULL DEFAULT 0,
    "callback_at" TIMESTAMPTZ(3),
    CONSTRAINT "execution_messages_pkey" PRIMARY KEY ("execution_id", "recipient")
);
CREATE INDEX "execution_messages_campaign_id_status_seq_idx" ON "execution_messages"("campaign_id", "status", "seq");
CREATE INDEX "execution_messages_campaign_id_callback_callback_at_idx" ON "execution_messages"("campaign_id", "callback", "callback_at");
ALTER TABLE "execution_messages" ADD CONSTRAINT "execution_messages_execution_id_fkey" FOREIGN KEY ("execution_id") REFERENCES "executions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
