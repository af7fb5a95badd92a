/** API triggers: the trigger call, its 202, executions and their per-recipient outcomes. */
import { z } from 'zod';
import { audienceRefSchema } from '../../api/schemas/campaigns';
import { contextObject, emailAddress, identifier, jsonObject, text } from '../../api/schemas/input';

/** The most context a call may carry, shared and per-recipient together (JSON bytes). */
export const MAX_CONTEXT_BYTES = 200 * 1024;
/** The most recipients one call may name. */
export const MAX_RECIPIENTS = 1000;

const context = (description: string) => contextObject(description);

export const triggerRecipientSchema = z
  .strictObject({
    profileId: identifier(200).optional().meta({ description: 'an existing profile (unknown: refused)' }),
    email: emailAddress().optional().meta({ description: 'email campaigns: the address to send to' }),
    phone: text(32).optional().meta({ description: 'sms campaigns: the number to send to' }),
    pushToken: text(4096).optional().meta({ description: 'push campaigns: the token to send to' }),
    profile: z
      .strictObject({ id: identifier(200), attributes: jsonObject('profile attributes').default({}) })
      .optional()
      .meta({ description: 'with an address: the profile to create when it does not exist (never changed)' }),
    context: context('this recipient’s own context, merged over the call’s').optional(),
  })
  .meta({
    id: 'TriggerRecipient',
    description:
      'Either `profileId`, or the channel’s address (`email`, `phone` or `pushToken`) with an optional ' +
      '`profile` to create. Recipients are unique by profile and by address.',
  });

export const triggerSchema = z
  .strictObject({
    recipients: z
      .array(triggerRecipientSchema)
      .min(1)
      .max(MAX_RECIPIENTS)
      .optional()
      .meta({ description: 'transactional campaigns: 1 to 1,000 unique recipients' }),
    audience: audienceRefSchema
      .optional()
      .meta({ description: 'marketing campaigns: who to send to (default: the live version’s audience)' }),
    context: context('context shared by every recipient: `{{context.x}}` in templates').default({}),
    executeAt: z.iso.datetime({ offset: true }).optional().meta({
      description: 'marketing campaigns: send later (cancellable with DELETE /v1/executions/:id)',
    }),
    callbackUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .meta({ description: 'a signed POST per recipient outcome (delivered, sent, failed, excluded)' }),
  })
  .meta({
    id: 'Trigger',
    description: `Context (shared and per recipient, as JSON) is at most ${MAX_CONTEXT_BYTES} bytes in all (413 beyond).`,
  });

export const EXECUTION_STATUSES = [
  'accepted',
  'in_progress',
  'succeeded',
  'partially_failed',
  'failed',
  'cancelled',
] as const;

export const executionSchema = z
  .object({
    id: z.uuid(),
    campaignId: z.uuid(),
    version: z.number().int().meta({ description: 'the version live when the call was accepted' }),
    category: z.enum(['transactional', 'marketing']),
    status: z.enum(EXECUTION_STATUSES),
    accepted: z.number().int(),
    refused: z.number().int(),
    counts: z.object({
      queued: z.number().int(),
      sent: z.number().int(),
      delivered: z.number().int(),
      failed: z.number().int(),
      excluded: z.number().int(),
      cancelled: z.number().int(),
    }),
    executeAt: z.string().nullable(),
    callbackUrl: z.string().nullable(),
    requestedBy: z.string(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Execution' });

export const executionAcceptedSchema = executionSchema
  .extend({ executionId: z.uuid(), replayed: z.boolean() })
  .meta({ id: 'ExecutionAccepted' });

export const outcomeSchema = z
  .object({
    recipient: z.number().int().meta({ description: 'position in the call (or in the audience snapshot)' }),
    profileId: z.string().nullable(),
    address: z.string().nullable(),
    status: z.enum(['queued', 'sent', 'delivered', 'failed', 'excluded', 'cancelled', 'refused']),
    reason: z.string().nullable(),
    sentAt: z.string().nullable(),
  })
  .meta({ id: 'ExecutionOutcome' });

export const executionDetailSchema = executionSchema
  .extend({ outcomes: z.array(outcomeSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ExecutionDetail' });

export const executionListSchema = z
  .object({ items: z.array(executionSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ExecutionList' });

export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: text(300).optional(),
});

export const EXECUTION_MESSAGE_STATUSES = [
  'queued',
  'sent',
  'delivered',
  'failed',
  'excluded',
  'cancelled',
  'refused',
] as const;

export const executionMessagesQuerySchema = pageQuerySchema.extend({
  status: z
    .enum(EXECUTION_MESSAGE_STATUSES)
    .optional()
    .meta({ description: 'only messages with this status' }),
});

export const executionMessageSchema = z
  .object({
    recipient: z.number().int().meta({ description: 'position in the call (or in the audience snapshot)' }),
    profileId: z.string().nullable(),
    address: z
      .string()
      .nullable()
      .meta({ description: 'the address the call gave, for a recipient without a profile' }),
    version: z.number().int().meta({ description: 'the version it was rendered from (the execution’s)' }),
    status: z.enum(EXECUTION_MESSAGE_STATUSES),
    reason: z.string().nullable(),
    rendered: z.record(z.string(), z.string()).nullable().meta({
      description: 'the content as rendered for this recipient (null until sent, or when not sent)',
    }),
    createdAt: z.string().meta({ description: 'when it was queued' }),
    sentAt: z.string().nullable(),
  })
  .meta({ id: 'ExecutionMessage' });

export const executionMessageListSchema = z
  .object({ items: z.array(executionMessageSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ExecutionMessageList' });
