/**
 * `contextSchema`: the JSON Schema (2020-12) a version gives for the context of trigger calls,
 * checked with Ajv. Review refuses a schema Ajv cannot compile; each call's context (the shared one
 * merged with each recipient's) must satisfy the live version's schema, or the call is refused with
 * every error named by its path. Compiled schemas are cached per campaign version (immutable).
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { LRUCache } from 'lru-cache';
import type { FieldProblem } from './problem';

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
// Per campaign version (immutable); the least recently used go first.
const compiled = new LRUCache<string, ValidateFunction>({ max: 1000 });

/** Why `schema` is not a usable JSON Schema, as review errors on `field`; empty when it is. */
export function schemaErrors(schema: unknown, field = 'content.contextSchema'): FieldProblem[] {
  if (schema === undefined) return [];
  try {
    ajv.compile(schema as object);
    return [];
  } catch (error) {
    return [{ field, message: `is not a valid JSON Schema: ${(error as Error).message}` }];
  }
}

/** The errors of `context` against the schema of version `key`, each named under `field`. */
export function contextErrors(key: string, schema: object, context: unknown, field: string): FieldProblem[] {
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  if (validate(context)) return [];
  return (validate.errors ?? []).map((e) => ({
    field: `${field}${e.instancePath.replaceAll('/', '.')}`,
    message: e.message ?? 'breaks the context schema',
  }));
}
