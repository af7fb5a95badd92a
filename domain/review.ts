/**
 * Review of a version before activation: the content its channel needs, templates that render
 * with sample data, coherent dates. Pure and deterministic (runs inside update validators).
 */
import Handlebars from 'handlebars/dist/cjs/handlebars';
import { reviewContext } from './context';
import { reviewRecurrence } from './schedule';
import type { Channel, VersionSpec } from './types';

/** What is wrong with one field, for the API's problem details. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * The profile templates are rendered against at review. Templates may use these fields at the top
 * level (`{{firstName}}`) or under `profile` (`{{profile.firstName}}`), plus any custom attribute
 * under `profile.attributes` (`{{profile.attributes.tier}}`); anything else fails review.
 */
export const SAMPLE_PROFILE = {
  id: 'sample-1',
  firstName: 'Ada',
  lastName: 'Lovelace',
  email: 'ada@example.com',
  phone: '+33612345678',
  locale: 'fr-FR',
  city: 'Paris',
} as const;

/** Any custom attribute exists at review time, rendering as `<name>`. */
const SAMPLE_ATTRIBUTES = new Proxy({} as Record<string, string>, {
  get: (_target, key) => (typeof key === 'string' ? `<${key}>` : undefined),
  has: () => true,
  // Handlebars only reads own properties.
  getOwnPropertyDescriptor: (_target, key) =>
    typeof key === 'string' ? { value: `<${key}>`, enumerable: true, configurable: true } : undefined,
});

/** What templates render against at review: the sample profile, at the top level and under `profile`. */
export const SAMPLE_DATA = {
  ...SAMPLE_PROFILE,
  profile: { ...SAMPLE_PROFILE, attributes: SAMPLE_ATTRIBUTES },
};

const REQUIRED: Record<Channel, Array<'sender' | 'subject' | 'title' | 'body' | 'url'>> = {
  email: ['sender', 'subject', 'body'],
  sms: ['body'],
  push: ['title', 'body'],
  webhook: ['url'],
};

const TEMPLATED = ['subject', 'title', 'body'] as const;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SMS_MAX = 1600;

/** Our Handlebars environment, with `{{default value "fallback"}}` for missing profile fields. */
const templates = Handlebars.create();
templates.registerHelper('default', (value: unknown, fallback: unknown) =>
  value === undefined || value === null || value === '' ? fallback : value,
);
const compiled = new Map<string, HandlebarsTemplateDelegate>();

/**
 * Renders `template` against `data`. Strict (review): an unknown field is an error. Lenient
 * (delivery): an unknown field renders empty. Compiled templates are cached.
 */
export function renderTemplate(template: string, data: object, strict = true): string {
  const key = `${strict ? 's' : 'l'}:${template}`;
  let render = compiled.get(key);
  if (!render) {
    render = templates.compile(template, { strict, noEscape: true });
    if (compiled.size > 500) compiled.clear();
    compiled.set(key, render);
  }
  return render(data);
}

/** What a review knows beyond the spec. */
export interface ReviewOptions {
  /**
   * api_triggered campaigns: templates may use `{{context.x}}`, rendered against a sample of the
   * version's `contextSchema` (any field without one). Other campaigns have no call context.
   */
  callContext?: boolean;
}

/** Everything wrong with `spec` for a `channel` campaign at `now`; empty when it may be activated. */
export function reviewVersion(
  channel: Channel,
  spec: VersionSpec,
  now: Date,
  options: ReviewOptions = {},
): FieldError[] {
  const errors: FieldError[] = [];
  const { content, schedule } = spec;
  const sample = options.callContext
    ? { ...SAMPLE_DATA, context: reviewContext(content.contextSchema) }
    : SAMPLE_DATA;
  if (content.contextSchema && !options.callContext) {
    errors.push({ field: 'content.contextSchema', message: 'is for api_triggered campaigns only' });
  }
  for (const field of REQUIRED[channel]) {
    if (!content[field]?.trim()) {
      errors.push({ field: `content.${field}`, message: `is required for ${channel} campaigns` });
    }
  }
  if (content.sender && !EMAIL.test(content.sender)) {
    errors.push({ field: 'content.sender', message: 'must be an email address' });
  }
  if (content.url && !/^https?:\/\/[^\s]+$/.test(content.url)) {
    errors.push({ field: 'content.url', message: 'must be an http(s) URL' });
  }
  for (const field of TEMPLATED) {
    const template = content[field];
    if (!template) continue;
    try {
      const rendered = renderTemplate(template, sample);
      if (channel === 'sms' && field === 'body' && rendered.length > SMS_MAX) {
        errors.push({ field: 'content.body', message: `renders to more than ${SMS_MAX} characters` });
      }
    } catch (error) {
      errors.push({
        field: `content.${field}`,
        message: `template does not render with sample data: ${firstLine((error as Error).message)}`,
      });
    }
  }
  if (spec.throttle !== undefined && !(Number.isInteger(spec.throttle) && spec.throttle > 0)) {
    errors.push({ field: 'throttle', message: 'must be a positive whole number of messages per second' });
  }
  if (schedule.recurrence) errors.push(...reviewRecurrence(schedule.recurrence, 'schedule.recurrence'));
  const start = schedule.startAt ? Date.parse(schedule.startAt) : undefined;
  const end = schedule.endAt ? Date.parse(schedule.endAt) : undefined;
  if (start !== undefined && Number.isNaN(start)) {
    errors.push({ field: 'schedule.startAt', message: 'must be an ISO-8601 instant' });
  }
  if (end !== undefined && Number.isNaN(end)) {
    errors.push({ field: 'schedule.endAt', message: 'must be an ISO-8601 instant' });
  } else if (end !== undefined) {
    if (start !== undefined && end <= start) {
      errors.push({ field: 'schedule.endAt', message: 'must be after schedule.startAt' });
    } else if (end <= now.getTime()) {
      errors.push({ field: 'schedule.endAt', message: 'must be in the future' });
    }
  }
  return errors;
}

/**
 * The templated fields of `content` rendered against the sample profile, as review renders them;
 * a field that does not render is in `errors` instead.
 */
export function previewContent(content: VersionSpec['content']): {
  rendered: Record<string, string>;
  errors: FieldError[];
} {
  const rendered: Record<string, string> = {};
  const errors: FieldError[] = [];
  for (const field of TEMPLATED) {
    const template = content[field];
    if (template === undefined) continue;
    try {
      rendered[field] = renderTemplate(template, SAMPLE_DATA);
    } catch (error) {
      errors.push({ field: `content.${field}`, message: firstLine((error as Error).message) });
    }
  }
  return { rendered, errors };
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}
