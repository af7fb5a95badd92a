/**
 * `content.contextSchema` as requests carry it: a JSON Schema object of bounded size. Whether it
 * compiles (and its patterns run on RE2) is review's question (triggers/context-schema.ts). Pure zod: the
 * console takes its types from here too.
 */
import { z } from 'zod';

/** Serialized size limit of `content.contextSchema` (well under Temporal's 2 MB payload limit). */
export const MAX_CONTEXT_SCHEMA_BYTES = 64 * 1024;

export const contextSchemaField = z
  .record(z.string(), z.unknown())
  .refine(
    (schema) => new TextEncoder().encode(JSON.stringify(schema)).length <= MAX_CONTEXT_SCHEMA_BYTES,
    `must be at most ${MAX_CONTEXT_SCHEMA_BYTES} bytes as JSON`,
  )
  .meta({
    description:
      'api_triggered: JSON Schema (2020-12) of each trigger call’s `context`; calls that break it are ' +
      'refused (422), and review renders `{{context.x}}` against a sample built from it. At most ' +
      `${MAX_CONTEXT_SCHEMA_BYTES} bytes as JSON (400 beyond). Its keywords take any JSON number ` +
      '(`multipleOf: 0.01`). `pattern` and `patternProperties` are RE2 syntax, matched in linear time: ' +
      'no lookaround, no backreferences (review refuses them).',
  });
