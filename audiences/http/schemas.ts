/** Profiles and audiences. */
import { z } from 'zod';
import { consentStatusSchema } from './consent-schemas';
import { emailAddress, identifier, jsonObject, name, text } from '../../api/schemas/input';

const attributes = z
  .record(z.string(), z.unknown())
  .meta({ description: 'any JSON attributes (firstName, tier, …)' });

export const profileSchema = z
  .strictObject({
    id: identifier(200),
    email: emailAddress().nullable().optional(),
    phone: text(32).nullable().optional(),
    pushToken: text(4096).nullable().optional(),
    attributes: jsonObject('any JSON attributes (firstName, tier, …)').default({}),
    subscribed: z
      .boolean()
      .optional()
      .meta({
        description:
          'Omitted: consent unchanged (a new profile is subscribed). false: unsubscribes (recorded in its ' +
          'consent history). true: subscribes a new profile only; a profile that unsubscribed or is ' +
          'suppressed stays so, its id listed in `consentKept` (re-subscribe with POST /v1/profiles/{id}/consent).',
      }),
  })
  .meta({ id: 'Profile' });
export const upsertProfilesSchema = z
  .strictObject({ profiles: z.array(profileSchema).min(1).max(10_000) })
  .meta({ id: 'UpsertProfiles' });
export const upsertProfilesResultSchema = z
  .object({
    upserted: z.number().int(),
    consentKept: z.array(z.string()).meta({
      description: 'profiles sent with `subscribed: true` that stay unsubscribed or suppressed',
    }),
  })
  .meta({ id: 'UpsertProfilesResult' });
export const profileParams = z.strictObject({ id: identifier(200) });
export const profileOutSchema = z
  .object({
    id: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    pushToken: z.string().nullable(),
    attributes,
    subscribed: z.boolean().meta({ description: 'whether campaigns send to it (consent is subscribed)' }),
    consent: consentStatusSchema,
    updatedAt: z.string(),
  })
  .meta({ id: 'ProfileOut' });

export const createAudienceSchema = z
  .strictObject({
    name: name(200),
    filter: jsonObject(
      'profiles whose attributes contain all these values; omit for a static list',
    ).optional(),
  })
  .meta({ id: 'CreateAudience' });
export const audienceMembersSchema = z
  .strictObject({
    add: z.array(identifier(200)).max(10_000).default([]),
    remove: z.array(identifier(200)).max(10_000).default([]),
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
