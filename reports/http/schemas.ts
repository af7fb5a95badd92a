/** Reports, tracking hits and provider events (bounces, complaints). */
import { z } from 'zod';
import { TEXT_RULE, UNSAFE_TEXT } from '../../domain/input';
import { MAX_TOKEN_LENGTH, TOKEN_PATTERN } from '../../runtime/tracking-tokens';

export { csvSchema, globalReportQuerySchema, liveReportQuerySchema, reportSchema } from './report-shape';
import { count } from './report-shape';

export const tokenParams = z.strictObject({
  token: z
    .string()
    .max(MAX_TOKEN_LENGTH)
    .meta({ description: 'a signed tracking token (one that is not ours is 404)', pattern: TOKEN_PATTERN }),
});

/**
 * A message as providers name it: the SMTP Message-ID we sent, bare or as `<…@campaign-orchestrator>`:
 * `<campaign>:<run>:<recipient>` for a run's message, `<execution>:<recipient index>` for a triggered one.
 */
export const MESSAGE_ID =
  /^<?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}):(\d{1,9})(?::(.+?))?(@campaign-orchestrator>|>)?$/;
const messageId = z
  .string()
  .max(600)
  .regex(
    MESSAGE_ID,
    'must be <campaign id>:<run>:<recipient> or <execution id>:<recipient>, as in our Message-ID',
  )
  .refine((s) => !UNSAFE_TEXT.test(s), TEXT_RULE)
  .meta({
    description:
      '`<campaign>:<run>:<recipient>` (a run) or `<execution>:<recipient index>` (a triggered message), as in ' +
      'the Message-ID header of the email. Text: no NUL character, no unpaired surrogate.',
  });
const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('bounced'),
    messageId,
    bounce: z.enum(['hard', 'soft']),
    at: z.iso.datetime({ offset: true }).optional(),
  }),
  z.strictObject({
    type: z.literal('complained'),
    messageId,
    at: z.iso.datetime({ offset: true }).optional(),
  }),
]);
export const providerEventsSchema = z
  .strictObject({ events: z.array(eventSchema).min(1).max(1000) })
  .meta({ id: 'ProviderEvents' });
export const providerEventsResultSchema = z
  .object({
    recorded: count,
    unknown: z.array(z.string()).meta({ description: 'message ids that name no message (not recorded)' }),
  })
  .meta({ id: 'ProviderEventsResult' });
