-- AlterTable
ALTER TABLE "campaign_versions" ADD COLUMN     "audience" JSONB,
ADD COLUMN     "throttle" INTEGER;
