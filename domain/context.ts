/**
 * The per-call `context` of api_triggered campaigns, as review sees it: templates reference it as
 * `{{context.x}}`. With a `contextSchema`, review renders against a sample built from the schema
 * (so `{{context.ordr}}` fails when the schema says `order`); without one, any field renders as a
 * placeholder. Pure and bundle-safe: runs inside the workflow's review. Whether a schema is valid
 * JSON Schema, and whether a call's context satisfies it, is checked by the API with a validator.
 */

import type { CampaignContent } from './types';

type Schema = Record<string, unknown>;

/** How deep a sample follows nested objects and arrays (a recursive schema stops there). */
const MAX_DEPTH = 8;

/**
 * A value that satisfies the common shapes of `schema`: an object with every declared property,
 * arrays with one item, the first `enum` value, `const`, `default` or the first of `examples`,
 * strings as `<name>`. Good enough to render templates with; not a general instance generator.
 */
export function sampleOf(schema: unknown, name = 'value', depth = 0): unknown {
  if (!isSchema(schema) || depth > MAX_DEPTH) return `<${name}>`;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  const variants = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(variants) && variants.length > 0) return sampleOf(variants[0], name, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  const properties = isSchema(schema.properties) ? schema.properties : undefined;
  if (type === 'object' || (type === undefined && properties)) {
    return Object.fromEntries(
      Object.entries(properties ?? {}).map(([key, value]) => [key, sampleOf(value, key, depth + 1)]),
    );
  }
  if (type === 'array') return [sampleOf(schema.items, name, depth + 1)];
  if (type === 'integer' || type === 'number') return typeof schema.minimum === 'number' ? schema.minimum : 1;
  if (type === 'boolean') return true;
  return `<${name}>`;
}

/** Any field, however deep, renders as `<context.path>`: review without a schema. */
export function anyContext(path = 'context'): object {
  const placeholder = `<${path}>`;
  return new Proxy(
    {},
    {
      get: (_target, key) =>
        key === Symbol.toPrimitive || key === 'toString'
          ? () => placeholder
          : typeof key === 'string'
            ? anyContext(`${path}.${key}`)
            : undefined,
      has: () => true,
      // Handlebars only reads own properties.
      getOwnPropertyDescriptor: (_target, key) =>
        typeof key === 'string'
          ? { value: anyContext(`${path}.${key}`), enumerable: true, configurable: true }
          : undefined,
    },
  );
}

/** What `{{context.…}}` renders against at review: the schema's sample, or any field. */
export function reviewContext(schema: Schema | undefined): unknown {
  return schema ? sampleOf(schema, 'context') : anyContext();
}

/** Whether a template or schema of `content` involves the call context at all. */
export function usesContext(content: CampaignContent): boolean {
  if (content.contextSchema) return true;
  return [content.subject, content.title, content.body].some((value) => value?.includes('context'));
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
