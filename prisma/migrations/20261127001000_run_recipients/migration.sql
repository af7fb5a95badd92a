-- CreateTable
CREATE TABLE "run_recipients" (
    "campaign_id" UUID NOT NULL,
    "run_number" INTEGER NOT NULL,
    "chunk" INTEGER NOT NULL,
    "profile_ids" TEXT[],

    CONSTRAINT "run_recipients_pkey" PRIMARY KEY ("campaign_id","run_number","chunk")
);
