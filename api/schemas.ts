/** Request schemas: zod validates every body; unknown fields are rejected. */
import { z } from 'zod';
import { CAMPAIGN_TYPES, CHANNELS } from '../workflows/types';

const instant = z.iso.datetime({ offset: true });

export const scheduleSchema = z.strictObject({
  startAt: instant.optional(),
  endAt: instant.optional(),
});

export const createCampaignSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  type: z.enum(CAMPAIGN_TYPES).default('scheduled'),
  channel: z.enum(CHANNELS),
  schedule: scheduleSchema.default({}),
});

export type CreateCampaignBody = z.infer<typeof createCampaignSchema>;

export const campaignIdSchema = z.uuid();
