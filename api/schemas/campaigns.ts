/**
 * Campaign requests and responses: create, edit the draft, lifecycle commands, versions, history.
 * Unknown fields are rejected (strict objects).
 */
import { z } from 'zod';
import { WEEKDAYS } from '../../domain/schedule';
import {
  CAMPAIGN_CATEGORIES,
  CAMPAIGN_STATUSES,
  CAMPAIGN_TYPES,
  CHANNELS,
  STOP_MODES,
} from '../../domain/types';
import { contextSchemaField } from './context-schema';
import { integer, integerParam, name, text } from './input';

const instant = z.iso.datetime({ offset: true });
const template = text(100_000);

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (24-hour)');
const timezone = name(64).meta({ description: 'IANA time zone, e.g. Europe/Paris' });

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
    sender: text(320).optional().meta({ description: 'email: sender address' }),
    subject: template.optional().meta({ description: 'email: subject (Handlebars template)' }),
    title: template.optional().meta({ description: 'push: title (Handlebars template)' }),
    body: template.optional().meta({ description: 'message body (Handlebars template)' }),
    url: text(2048).optional().meta({ description: 'webhook: target URL' }),
    contextSchema: contextSchemaField.optional(),
  })
  .meta({ id: 'Content' });

const tags = z.array(name(50)).max(20);

export const createCampaignSchema = z
  .strictObject({
    name: name(200),
    description: text(2000).default(''),
    tags: tags.default([]),
    type: z.enum(CAMPAIGN_TYPES).default('scheduled'),
    category: z
      .enum(CAMPAIGN_CATEGORIES)
      .optional()
      .meta({
        description:
          'api_triggered only (default marketing): `transactional` sends to the recipients each call names, ' +
          'consent not applied; `marketing` to an audience, consent honoured',
      }),
    channel: z.enum(CHANNELS),
    content: contentSchema.default({}),
    schedule: scheduleSchema.default({}),
    audience: audienceRefSchema
      .optional()
      .meta({ description: 'who to send to; without it nothing is sent' }),
    throttle: throttle.optional(),
  })
  .refine((body) => body.category === undefined || body.type === 'api_triggered', {
    message: 'is for api_triggered campaigns only',
    path: ['category'],
  })
  // The same rule in JSON Schema: `category` only when `type` is api_triggered.
  .meta({
    id: 'CreateCampaign',
    if: { not: { required: ['type'], properties: { type: { const: 'api_triggered' } } } },
    then: { not: { required: ['category'] } },
  });

/** A field that moved to PATCH /v1/campaigns/:id: refused here, naming it and saying where it went. */
const campaignLevel = () =>
  z
    .unknown()
    .refine((value) => value === undefined, {
      message: 'is campaign-level, not part of the draft: change it with PATCH /v1/campaigns/:id',
    })
    .optional()
    // `not: {}`: no value is valid (JSON Schema), as the check says.
    .meta({
      not: {},
      description: 'not accepted here: campaign-level, change it with PATCH /v1/campaigns/:id',
    });

export const editDraftSchema = z
  .strictObject({
    name: campaignLevel(),
    description: campaignLevel(),
    tags: campaignLevel(),
    content: contentSchema.optional(),
    schedule: scheduleSchema.optional(),
    audience: audienceRefSchema.nullable().optional().meta({ description: 'null removes it' }),
    throttle: throttle.nullable().optional().meta({ description: 'null removes it' }),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'give at least one field to change' })
  .meta({ id: 'EditDraft', minProperties: 1 });

export const describeCampaignSchema = z
  .strictObject({
    name: name(200).optional(),
    description: text(2000).optional(),
    tags: tags.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'give at least one of name, description, tags' })
  .meta({
    id: 'DescribeCampaign',
    description: 'Campaign-level fields: not versioned, changed at once on the live campaign.',
    minProperties: 1,
  });

export const stopSchema = z.strictObject({ mode: z.enum(STOP_MODES) }).meta({ id: 'StopRequest' });
export const rollbackSchema = z.strictObject({ version: integer(1) }).meta({ id: 'RollbackRequest' });
export const listQuerySchema = z.strictObject({
  status: z.enum(CAMPAIGN_STATUSES).optional(),
  hasDraft: z.enum(['true', 'false']).optional(),
  type: z.enum(CAMPAIGN_TYPES).optional(),
  channel: z.enum(CHANNELS).optional(),
  tag: text(50).optional(),
  q: text(200).optional().meta({ description: 'case-insensitive search in names' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: text(200).optional().meta({ description: 'nextCursor of the previous page' }),
});

export const versionParams = z.strictObject({ id: z.uuid(), n: integerParam(1) });
export const diffParams = z.strictObject({
  id: z.uuid(),
  a: integerParam(1),
  b: integerParam(1),
});

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
    triggered: z
      .object({ executions: z.number().int(), sent: z.number().int(), cancelled: z.number().int() })
      .optional()
      .meta({
        description:
          'api_triggered: executions not finished at the stop, their messages sent by then, and those cancelled',
      }),
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
    category: z.enum(CAMPAIGN_CATEGORIES).nullable(),
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
    projectionError: z
      .object({ revision: z.number().int(), at: z.string(), reason: z.string() })
      .nullable()
      .meta({
        description:
          'Set when the workflow gave up writing a change here (after bounded retries): this row ' +
          'shows an older revision than the campaign has. Cleared by the next change written.',
      }),
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
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'History' });

/** Paging of the shorter per-campaign lists (history, runs): 50 rows by default, at most 500. */
export const shortPageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: text(200).optional().meta({ description: 'nextCursor of the previous page' }),
});

export const activationSchema = z
  .object({ campaign: campaignSchema, version: versionSchema })
  .meta({ id: 'Activation' });
export const stopResponseSchema = z
  .object({ campaign: campaignSchema, receipt: stopReceiptSchema })
  .meta({ id: 'StopResponse' });
