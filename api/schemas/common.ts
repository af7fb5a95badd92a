/** Schemas every resource uses: path ids, the empty body, roles, and the problem document. */
import { z } from 'zod';

/** `trigger`: a machine key that may trigger api_triggered campaigns and read what it triggered. */
export const ROLES = ['viewer', 'editor', 'publisher', 'trigger', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const PERMISSIONS = ['read', 'edit', 'publish', 'trigger', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const emptySchema = z.strictObject({}).meta({ id: 'Empty' });
export const idParams = z.strictObject({ id: z.uuid() });

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
