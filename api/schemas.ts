/** Request schemas: zod validates every body; unknown fields are rejected. */
import { z } from 'zod';
import { CAMPAIGN_TYPES, CHANNELS } from '../workflows/types';

const instant = z.iso.datetime({ offset: true });

export const scheduleSchema = z.strictObject({
  startAt: instant.optional(),
  endAt: instant.optional(),
});

const template = z.string().max(100_000);

export const contentSchema = z.strictObject({
  sender: z.string().max(320).optional(),
  subject: template.optional(),
  title: template.optional(),
  body: template.optional(),
  url: z.string().max(2048).optional(),
});

export const createCampaignSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  tags: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
  type: z.enum(CAMPAIGN_TYPES).default('scheduled'),
  channel: z.enum(CHANNELS),
  content: contentSchema.default({}),
  schedule: scheduleSchema.default({}),
});

export type CreateCampaignBody = z.infer<typeof createCampaignSchema>;

export const campaignIdSchema = z.uuid();
