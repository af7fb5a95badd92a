/** API keys: create (the secret is shown once), list, revoke. */
import { z } from 'zod';
import { PERMISSIONS, ROLES } from './common';
import { name } from './input';

export const createKeySchema = z
  .strictObject({ name: name(100), role: z.enum(ROLES) })
  .meta({ id: 'CreateApiKey' });

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
export const meSchema = z
  .object({
    name: z.string().meta({ description: 'the key’s name: the actor recorded for what it does' }),
    role: z.enum(ROLES),
    permissions: z.array(z.enum(PERMISSIONS)),
  })
  .meta({ id: 'Me' });
