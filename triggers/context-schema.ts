/**
 * `contextSchema`: the JSON Schema (2020-12) a version gives for the context of trigger calls,
 * checked with Ajv. Review refuses a schema Ajv cannot compile; each call's context (the shared one
 * merged with each recipient's) must satisfy the live version's schema, or the call is refused with
 * every error named by its path.
 *
 * Schemas are editors' input, run on the API's event loop, so:
 * - each schema compiles in an Ajv instance of its own: nothing is registered globally (a `$id`
 *   compiled twice, or by two campaigns, is no conflict) and no instance grows with every review;
 * - compiled validators are kept in a bounded LRU keyed by the schema's canonical JSON;
 * - `pattern` and `patternProperties` run on RE2 (re2js, linear time): `^(a+)+$` cannot stall the
 *   process. RE2 has no lookaround and no backreferences: review refuses such a pattern.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { RegExpEngine } from 'ajv/dist/types';
import addFormats from 'ajv-formats';
import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';
import stringify from 'safe-stable-stringify';
import { HttpProblem, type FieldProblem } from '../api/problem';
import { MAX_CONTEXT_SCHEMA_BYTES } from '../api/schemas/context-schema';

/** Ajv's `code.regExp`: RE2's linear-time matching instead of JavaScript's backtracking RegExp. */
const re2: RegExpEngine = Object.assign(
  (pattern: string) => {
    const compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
    // Ajv keys its scope values by `toString()`: one per pattern.
    return { test: (s: string) => compiled.test(s), toString: () => `re2:${pattern}` };
  },
  { code: 're2js' },
);

const options = { allErrors: true, strict: false, code: { regExp: re2 } };
// Checks schemas against the 2020-12 meta-schema only (compiled once; adds nothing per schema).
const meta = new Ajv2020(options);

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ ...options, validateSchema: false });
  addFormats(ajv);
  return ajv;
}

// By canonical JSON (the same schema from two versions compiles once); the least recently used go first.
const bySchema = new LRUCache<string, ValidateFunction>({ max: 200 });
// By campaign version (immutable), so a call does not serialize the schema again; a schema that does
// not compile is remembered as such.
const byVersion = new LRUCache<string, ValidateFunction | { unusable: string }>({ max: 1000 });

/** The validator of `schema`, compiled once; throws when it is not a usable JSON Schema. */
function compile(schema: object): ValidateFunction {
  const key = stringify(schema) ?? 'undefined';
  let validate = bySchema.get(key);
  if (!validate) {
    // A copy: Ajv keeps the schema object, and the caller's may change afterwards.
    const copy = JSON.parse(key) as object;
    if (!meta.validateSchema(copy)) throw new Error(meta.errorsText(meta.errors, { dataVar: 'schema' }));
    validate = newAjv().compile(copy);
    bySchema.set(key, validate);
  }
  return validate;
}

/** Why `schema` is not a usable JSON Schema, as review errors on `field`; empty when it is. */
export function schemaErrors(schema: unknown, field = 'content.contextSchema'): FieldProblem[] {
  if (schema === undefined) return [];
  const bytes = Buffer.byteLength(JSON.stringify(schema));
  if (bytes > MAX_CONTEXT_SCHEMA_BYTES) {
    return [{ field, message: `must be at most ${MAX_CONTEXT_SCHEMA_BYTES} bytes as JSON (is ${bytes})` }];
  }
  try {
    compile(schema as object);
    return [];
  } catch (error) {
    return [{ field, message: `is not a valid JSON Schema: ${(error as Error).message}` }];
  }
}

/**
 * The errors of `context` against the schema of version `key`, each named under `field`. A 409 when
 * the schema does not compile (a version activated without the API's review, or before patterns ran
 * on RE2): no call can be checked against it until a version that fixes it is activated.
 */
export function contextErrors(key: string, schema: object, context: unknown, field: string): FieldProblem[] {
  let validate = byVersion.get(key);
  if (!validate) {
    try {
      validate = compile(schema);
    } catch (error) {
      validate = { unusable: (error as Error).message };
    }
    byVersion.set(key, validate);
  }
  if ('unusable' in validate) {
    throw new HttpProblem(
      409,
      'CONTEXT_SCHEMA_UNUSABLE',
      `the live version's contextSchema cannot be used (${validate.unusable}): activate a version that fixes it`,
    );
  }
  if (validate(context)) return [];
  return (validate.errors ?? []).map((e) => ({
    field: `${field}${e.instancePath.replaceAll('/', '.')}`,
    message: e.message ?? 'breaks the context schema',
  }));
}
