-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "draft" JSONB,
ADD COLUMN     "draft_revision" INTEGER,
ADD COLUMN     "end_at" TIMESTAMPTZ(3),
ADD COLUMN     "finished_as" TEXT,
ADD COLUMN     "origin_campaign_id" UUID,
ADD COLUMN     "origin_version" INTEGER,
ADD COLUMN     "start_at" TIMESTAMPTZ(3),
ADD COLUMN     "stop_receipt" JSONB,
ADD COLUMN     "tags" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "campaign_versions" (
    "campaign_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "content" JSONB NOT NULL,
    "schedule" JSONB NOT NULL,
    "activated_at" TIMESTAMPTZ(3) NOT NULL,
    "activated_by" TEXT NOT NULL,
    "based_on" INTEGER,

    CONSTRAINT "campaign_versions_pkey" PRIMARY KEY ("campaign_id","number")
);

-- CreateIndex
CREATE INDEX "campaigns_created_at_id_idx" ON "campaigns"("created_at", "id");

-- AddForeignKey
ALTER TABLE "campaign_versions" ADD CONSTRAINT "campaign_versions_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;
