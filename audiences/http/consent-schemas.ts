/** A profile's consent: explicit changes and the ledger (audiences/store.ts). */
import { z } from 'zod';
import { CONSENT_STATUSES, EXPLICIT_CONSENT_SOURCES } from '../store';
import { integerParam, text } from '../../api/schemas/input';

export const consentStatusSchema = z.enum(CONSENT_STATUSES).meta({
  description:
    'subscribed: campaigns send to it; unsubscribed: consent withdrawn; suppressed: a hard bounce or a ' +
    'complaint. Applies to every channel.',
});

export const consentChangeSchema = z
  .strictObject({
    status: consentStatusSchema,
    source: z.enum(EXPLICIT_CONSENT_SOURCES).meta({
      description:
        'where the consent was given or withdrawn: api (this call), import (a file), form (a web form)',
    }),
    note: text(1000).nullable().optional().meta({ description: 'e.g. the form, the import, the ticket' }),
  })
  .meta({ id: 'ConsentChange' });

export const consentChangeOutSchema = z
  .object({
    id: z.string().meta({ description: 'the change id, increasing (use it as `before` to page)' }),
    status: consentStatusSchema,
    source: z.enum([...EXPLICIT_CONSENT_SOURCES, 'unsubscribe_link', 'bounce', 'complaint', 'migration']),
    actor: z.string().meta({
      description: 'the API key’s name, `recipient` (their unsubscribe link) or `migration`',
    }),
    note: z.string().nullable(),
    at: z.string(),
  })
  .meta({ id: 'ConsentChangeOut' });

export const consentHistoryQuery = z.strictObject({
  limit: integerParam(1, 1000).default(100).meta({ description: 'at most this many changes (1–1000)' }),
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,17}$/, 'must be a change id')
    .optional()
    .meta({ description: 'only changes older than this change id' }),
});

export const consentHistorySchema = z
  .object({
    profileId: z.string(),
    consent: consentStatusSchema,
    changes: z.array(consentChangeOutSchema).meta({ description: 'newest first' }),
  })
  .meta({ id: 'ConsentHistory' });
