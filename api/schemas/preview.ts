/** Preview: content rendered against the sample profile review uses. */
import { z } from 'zod';
import { contentSchema } from './campaigns';

export const previewRequestSchema = z.strictObject({ content: contentSchema }).meta({ id: 'PreviewRequest' });

export const previewSchema = z
  .object({
    profile: z.record(z.string(), z.string()).meta({ description: 'the sample profile rendered against' }),
    rendered: z
      .record(z.string(), z.string())
      .meta({ description: 'each templated field (subject, title, body) that renders, rendered' }),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .meta({ description: 'the templated fields that do not render, and why (review would refuse them)' }),
  })
  .meta({ id: 'Preview' });
