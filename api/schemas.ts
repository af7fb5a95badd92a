/**
 * The API's schemas, in zod: they validate every request and generate the OpenAPI document
 * (api/openapi.ts), so the two cannot disagree. Unknown fields are rejected (strict objects).
 */
import { z } from 'zod';
import { WEEKDAYS } from '../domain/schedule';
import { CAMPAIGN_STATUSES, CAMPAIGN_TYPES, CHANNELS, STOP_MODES } from '../domain/types';

export const ROLES = ['viewer', 'editor', 'publisher', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const instant = z.iso.datetime({ offset: true });
const template = z.string().max(100_000);

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (24-hour)');
const timezone = z.string().min(1).max(64).meta({ description: 'IANA time zone, e.g. Europe/Paris' });

export const recurrenceSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('once') }),
    z.strictObject({ kind: z.literal('daily'), at: localTime, timezone }),
    z.strictObject({
      kind: z.literal('weekly'),
      at: localTime,
      timezone,
      weekdays: z.array(z.enum(WEEKDAYS)).min(1).max(7),
    }),
    z.strictObject({
      kind: z.literal('monthly'),
      at: localTime,
      timezone,
      dayOfMonth: z.number().int().min(1).max(31),
    }),
  ])
  .meta({
    id: 'Recurrence',
    description: 'When runs happen (default once). Local times follow daylight-saving changes.',
  });

export const scheduleSchema = z
  .strictObject({
    startAt: instant.optional().meta({ description: 'When the campaign goes live (default: at activation)' }),
    endAt: instant.optional().meta({ description: 'When the campaign completes (default: never)' }),
    recurrence: recurrenceSchema.optional(),
  })
  .meta({ id: 'Schedule' });

export const audienceRefSchema = z.strictObject({ audienceId: z.uuid() }).meta({ id: 'AudienceRef' });
const throttle = z
  .number()
  .int()
  .min(1)
  .max(100_000)
  .meta({ description: 'at most this many messages per second' });

export const contentSchema = z
  .strictObject({
    sender: z.string().max(320).optional().meta({ description: 'email: sender address' }),
    subject: template.optional().meta({ description: 'email: subject (Handlebars template)' }),
    title: template.optional().meta({ description: 'push: title (Handlebars template)' }),
    body: template.optional().meta({ description: 'message body (Handlebars template)' }),
    url: z.string().max(2048).optional().meta({ description: 'webhook: target URL' }),
  })
  .meta({ id: 'Content' });

const tags = z.array(z.string().trim().min(1).max(50)).max(20);

export const createCampaignSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(''),
    tags: tags.default([]),
    type: z.enum(CAMPAIGN_TYPES).default('scheduled'),
    channel: z.enum(CHANNELS),
    content: contentSchema.default({}),
    schedule: scheduleSchema.default({}),
    audience: audienceRefSchema
      .optional()
      .meta({ description: 'who to send to; without it nothing is sent' }),
    throttle: throttle.optional(),
  })
  .meta({ id: 'CreateCampaign' });

export const editDraftSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).optional(),
    tags: tags.optional(),
    content: contentSchema.optional(),
    schedule: scheduleSchema.optional(),
    audience: audienceRefSchema.nullable().optional().meta({ description: 'null removes it' }),
    throttle: throttle.nullable().optional().meta({ description: 'null removes it' }),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'give at least one field to change' })
  .meta({ id: 'EditDraft' });

export const stopSchema = z.strictObject({ mode: z.enum(STOP_MODES) }).meta({ id: 'StopRequest' });
export const rollbackSchema = z
  .strictObject({ version: z.number().int().min(1) })
  .meta({ id: 'RollbackRequest' });
export const emptySchema = z.strictObject({}).meta({ id: 'Empty' });

export const listQuerySchema = z.strictObject({
  status: z.enum(CAMPAIGN_STATUSES).optional(),
  hasDraft: z.enum(['true', 'false']).optional(),
  type: z.enum(CAMPAIGN_TYPES).optional(),
  channel: z.enum(CHANNELS).optional(),
  tag: z.string().max(50).optional(),
  q: z.string().max(200).optional().meta({ description: 'case-insensitive search in names' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page' }),
});

export const idParams = z.strictObject({ id: z.uuid() });
export const versionParams = z.strictObject({ id: z.uuid(), n: z.coerce.number().int().min(1) });
export const diffParams = z.strictObject({
  id: z.uuid(),
  a: z.coerce.number().int().min(1),
  b: z.coerce.number().int().min(1),
});

export const createKeySchema = z
  .strictObject({ name: z.string().trim().min(1).max(100), role: z.enum(ROLES) })
  .meta({ id: 'CreateApiKey' });

// Responses

const nullableInstant = z.string().nullable();

export const stopReceiptSchema = z
  .object({
    mode: z.enum(STOP_MODES),
    stoppedAt: z.string(),
    stoppedBy: z.string(),
    liveVersion: z.number().int().nullable(),
    sent: z.number().int(),
    cancelled: z.number().int(),
  })
  .meta({ id: 'StopReceipt' });

export const campaignSchema = z
  .object({
    id: z.uuid(),
    workflowId: z.string(),
    name: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    type: z.enum(CAMPAIGN_TYPES),
    channel: z.enum(CHANNELS),
    status: z.enum(CAMPAIGN_STATUSES),
    liveVersion: z.number().int().nullable(),
    hasDraft: z.boolean(),
    draftRevision: z.number().int().nullable(),
    startAt: nullableInstant,
    endAt: nullableInstant,
    origin: z.object({ campaignId: z.uuid(), version: z.number().int().nullable() }).nullable(),
    finishedAs: z.enum(['completed', 'stopped']).nullable(),
    stopReceipt: stopReceiptSchema.nullable(),
    revision: z.number().int(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Campaign' });

export const campaignListSchema = z
  .object({ items: z.array(campaignSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'CampaignList' });

export const draftSchema = z
  .object({
    content: contentSchema,
    schedule: scheduleSchema,
    audience: audienceRefSchema.optional(),
    throttle: z.number().int().optional(),
    revision: z.number().int(),
    basedOn: z.number().int().nullable(),
    updatedAt: z.string(),
    updatedBy: z.string(),
  })
  .meta({ id: 'Draft' });

export const versionSchema = z
  .object({
    number: z.number().int(),
    content: contentSchema,
    schedule: scheduleSchema,
    audience: audienceRefSchema.optional(),
    throttle: z.number().int().optional(),
    activatedAt: z.string(),
    activatedBy: z.string(),
    basedOn: z.number().int().nullable(),
  })
  .meta({ id: 'Version' });

export const versionListSchema = z.object({ items: z.array(versionSchema) }).meta({ id: 'VersionList' });

export const diffSchema = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    changes: z.array(
      z.object({
        path: z.string(),
        kind: z.enum(['added', 'removed', 'changed']),
        from: z.unknown().optional(),
        to: z.unknown().optional(),
      }),
    ),
  })
  .meta({ id: 'VersionDiff' });

export const historySchema = z
  .object({
    items: z.array(
      z.object({
        action: z.string(),
        actor: z.string(),
        version: z.number().int().nullable(),
        at: z.string(),
        requestId: z.string(),
      }),
    ),
  })
  .meta({ id: 'History' });

export const activationSchema = z
  .object({ campaign: campaignSchema, version: versionSchema })
  .meta({ id: 'Activation' });
export const stopResponseSchema = z
  .object({ campaign: campaignSchema, receipt: stopReceiptSchema })
  .meta({ id: 'StopResponse' });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z.string(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export const apiKeyCreatedSchema = apiKeySchema
  .extend({ key: z.string().meta({ description: 'the secret; shown only in this response' }) })
  .meta({ id: 'ApiKeyCreated' });
export const apiKeyListSchema = z.object({ items: z.array(apiKeySchema) }).meta({ id: 'ApiKeyList' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

// Profiles, audiences, runs and messages

const attributes = z
  .record(z.string(), z.unknown())
  .meta({ description: 'any JSON attributes (firstName, tier, …)' });

export const profileSchema = z
  .strictObject({
    id: z.string().min(1).max(200),
    email: z.email().nullable().optional(),
    phone: z.string().max(32).nullable().optional(),
    pushToken: z.string().max(4096).nullable().optional(),
    attributes: attributes.default({}),
    subscribed: z.boolean().default(true),
  })
  .meta({ id: 'Profile' });
export const upsertProfilesSchema = z
  .strictObject({ profiles: z.array(profileSchema).min(1).max(10_000) })
  .meta({ id: 'UpsertProfiles' });
export const upsertProfilesResultSchema = z
  .object({ upserted: z.number().int() })
  .meta({ id: 'UpsertProfilesResult' });
export const profileParams = z.strictObject({ id: z.string().min(1).max(200) });
export const profileOutSchema = z
  .object({
    id: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    pushToken: z.string().nullable(),
    attributes,
    subscribed: z.boolean(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ProfileOut' });

export const createAudienceSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    filter: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'profiles whose attributes contain all these values; omit for a static list' }),
  })
  .meta({ id: 'CreateAudience' });
export const audienceMembersSchema = z
  .strictObject({
    add: z.array(z.string().min(1).max(200)).max(10_000).default([]),
    remove: z.array(z.string().min(1).max(200)).max(10_000).default([]),
  })
  .meta({ id: 'AudienceMembers' });
export const audienceSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    filter: z.record(z.string(), z.unknown()).nullable(),
    members: z.number().int().meta({ description: 'static lists: member count; filters: matching profiles' }),
    createdAt: z.string(),
  })
  .meta({ id: 'Audience' });

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
export const runListSchema = z.object({ items: z.array(runSchema) }).meta({ id: 'RunList' });

export const messagesQuerySchema = z.strictObject({
  run: z.coerce.number().int().min(1).optional(),
  status: z.enum(['sent', 'delivered', 'failed', 'excluded', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(300).optional(),
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
