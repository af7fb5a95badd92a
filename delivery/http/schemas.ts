/** What campaigns sent: runs and messages. */
import { z } from 'zod';
import { integerParam, text } from '../../api/schemas/input';

export const runSchema = z
  .object({
    number: z.number().int(),
    version: z.number().int(),
    status: z.enum(['running', 'completed', 'cancelled', 'failed']),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    recipients: z.number().int(),
    counts: z.record(z.string(), z.number().int()),
  })
  .meta({ id: 'Run' });
export const runListSchema = z
  .object({ items: z.array(runSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'RunList' });

export const messagesQuerySchema = z.strictObject({
  run: integerParam(1).optional(),
  status: z.enum(['sent', 'delivered', 'failed', 'excluded', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: text(300).optional(),
});
export const messageSchema = z
  .object({
    run: z.number().int(),
    profileId: z.string(),
    version: z.number().int(),
    status: z.string(),
    reason: z.string().nullable(),
    rendered: z.record(z.string(), z.string()).nullable(),
    createdAt: z.string(),
    sentAt: z.string().nullable(),
  })
  .meta({ id: 'Message' });
export const messageListSchema = z
  .object({ items: z.array(messageSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'MessageList' });
