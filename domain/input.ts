/**
 * The input rules every command obeys, whoever sends it: the API states and checks them in its zod
 * schemas (api/schemas/input.ts, which takes them from here); the workflow's validators check them
 * again for commands that bypass the API (the `command` signal, `temporal workflow update`). Pure.
 *
 * - text holds no NUL character (PostgreSQL cannot store it) and no unpaired UTF-16 surrogate
 *   (PostgreSQL would silently alter it);
 * - numbers are integers within PostgreSQL's `integer` (int4): every number a command carries
 *   (revisions, version numbers, throttle, day of month) is stored in such a column; except inside
 *   `content.contextSchema`, a JSON Schema stored as JSON, whose keywords carry any JSON number
 *   (`multipleOf: 0.01`).
 */
import type { FieldError } from './review';

/** Largest value of a PostgreSQL `integer` column. */
export const INT4_MAX = 2_147_483_647;
/** Smallest value of a PostgreSQL `integer` column. */
export const INT4_MIN = -2_147_483_648;

/** NUL, or a surrogate code unit that is not half of a pair. */
// eslint-disable-next-line no-control-regex
export const UNSAFE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const TEXT_RULE = 'must not contain a NUL character or an unpaired surrogate';
export const INTEGER_RULE = "must be a whole number within PostgreSQL's integer";

/** Where a command carries free-form JSON whose numbers are any JSON number (text rule still applies). */
const ANY_NUMBER_UNDER = 'content.contextSchema';

export interface InputRules {
  /**
   * Numbers inside `content.contextSchema` may be any JSON number. Default true; false only for a
   * workflow replaying history recorded before (the int4 rule then applied there too).
   */
  schemaNumbers?: boolean;
}

/**
 * The fields of `value` (a command, walked through its objects and arrays) that break a rule, each
 * named by its path (`content.subject`, `tags.0`); the command's `type` is not a field.
 */
export function inputErrors(value: unknown, rules: InputRules = {}, path = ''): FieldError[] {
  if (typeof value === 'string') return UNSAFE_TEXT.test(value) ? [{ field: path, message: TEXT_RULE }] : [];
  if (typeof value === 'number') {
    const anyNumber = (rules.schemaNumbers ?? true) && `${path}.`.startsWith(`${ANY_NUMBER_UNDER}.`);
    const ok = anyNumber || (Number.isInteger(value) && value >= INT4_MIN && value <= INT4_MAX);
    return ok ? [] : [{ field: path, message: INTEGER_RULE }];
  }
  if (Array.isArray(value))
    return value.flatMap((item, i) => inputErrors(item, rules, join(path, String(i))));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => {
      const keyErrors = UNSAFE_TEXT.test(key) ? [{ field: join(path, key), message: TEXT_RULE }] : [];
      return [...keyErrors, ...inputErrors(item, rules, join(path, key))];
    });
  }
  return [];
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
