/**
 * The rules every input obeys, each stated in the OpenAPI document as well as checked, so a request
 * the contract calls valid is never refused by an unstated rule:
 *
 * - text holds no NUL character and no unpaired UTF-16 surrogate (PostgreSQL cannot store the first,
 *   and would silently alter the second); lengths count characters (code points), as JSON Schema does;
 * - integers stay within PostgreSQL's `integer` (int4);
 * - free-form JSON (profile attributes, audience filters) obeys the text rule in keys and values.
 *
 * The text rule and int4's bounds come from ../../domain/input, which the workflow's validators use
 * too.
 */
import { z } from 'zod';
import { INT4_MAX, TEXT_RULE, UNSAFE_TEXT as UNSAFE } from '../../domain/input';

export { INT4_MAX, TEXT_RULE };

/**
 * JSON Schema patterns. They name NUL only: an unpaired surrogate is not Unicode text at all (JSON
 * Schema strings are code points, and regex engines such as Rust's cannot even name one), so that
 * half of the rule is stated in each field's description.
 */
const FORBIDDEN = '\\u0000';
const SAFE_PATTERN = `^[^${FORBIDDEN}]*$`;
const NON_BLANK_PATTERN = `^[^${FORBIDDEN}]*[^\\s${FORBIDDEN}][^${FORBIDDEN}]*$`;

const TEXT_NOTE = 'Text: no NUL character, no unpaired surrogate.';

const characters = (s: string) => [...s].length;

/** Text of at most `max` characters that PostgreSQL stores as given. */
export function text(max: number) {
  return z
    .string()
    .refine((s) => !UNSAFE.test(s), TEXT_RULE)
    .refine((s) => characters(s) <= max, `must have at most ${max} characters`)
    .meta({ pattern: SAFE_PATTERN, maxLength: max, description: TEXT_NOTE });
}

/** Like `text`, with at least one non-space character; surrounding spaces are trimmed. */
export function name(max: number) {
  return z
    .string()
    .refine((s) => !UNSAFE.test(s), TEXT_RULE)
    .refine((s) => characters(s) <= max, `must have at most ${max} characters`)
    .refine((s) => /\S/.test(s), 'must not be blank')
    .trim()
    .meta({ pattern: NON_BLANK_PATTERN, maxLength: max, description: `${TEXT_NOTE} Not blank; trimmed.` });
}

/** A whole number from `min` to int4's maximum (path and query values are converted). */
export function integer(min: number, max = INT4_MAX) {
  return z.number().int().min(min).max(max);
}
export function integerParam(min: number, max = INT4_MAX) {
  return z.coerce.number().int().min(min).max(max);
}

/** A non-empty identifier of at most `max` characters, taken as given (no trimming). */
export function identifier(max: number) {
  return z
    .string()
    .refine((s) => !UNSAFE.test(s), TEXT_RULE)
    .refine((s) => s.length > 0 && characters(s) <= max, `must have 1 to ${max} characters`)
    .meta({ pattern: `^[^${FORBIDDEN}]+$`, minLength: 1, maxLength: max, description: TEXT_NOTE });
}

/**
 * zod's email rule (no leading dot, no `..`, the last character of the local part not `.` or `'`;
 * a dotted domain ending in 2+ letters), written without lookaheads so JSON Schema tools can draw
 * values from it: it is stricter than `format: email`, so the document states it as the pattern.
 */
export const EMAIL_PATTERN =
  "^([A-Za-z0-9_'+-]+\\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9-]*\\.)+[A-Za-z]{2,}$";

/** An email address as zod checks it, with that rule stated in the OpenAPI document. */
export function emailAddress() {
  return z.email({ pattern: new RegExp(EMAIL_PATTERN) }).meta({ pattern: EMAIL_PATTERN });
}

const key = text(200);

/** Any JSON value but null, with safe text of at most `maxText` characters everywhere (recursive). */
function jsonValueOf(maxText: number, id: string): z.ZodType {
  const value: z.ZodType = z
    .lazy(() =>
      z.union([
        text(maxText),
        z.number(),
        z.boolean(),
        z.array(value.nullable()),
        z.record(key, value.nullable()).meta({ propertyNames: { pattern: SAFE_PATTERN, maxLength: 200 } }),
      ]),
    )
    .meta({ id });
  return value;
}

const jsonValue = jsonValueOf(10_000, 'JsonValue');
/** Context values: long texts allowed, the whole context being bounded by size instead (413). */
const contextValue = jsonValueOf(200 * 1024, 'ContextValue');

/** A JSON object of free-form values (attributes, filters). */
export function jsonObject(description: string) {
  return z
    .record(key, jsonValue.nullable())
    .meta({ propertyNames: { pattern: SAFE_PATTERN, maxLength: 200 }, description });
}

/** A trigger call's context: free-form JSON, texts up to the whole context budget. */
export function contextObject(description: string) {
  return z
    .record(key, contextValue.nullable())
    .meta({ propertyNames: { pattern: SAFE_PATTERN, maxLength: 200 }, description });
}
