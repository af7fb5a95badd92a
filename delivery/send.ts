/**
 * Sending one batch of a run: each recipient's message rendered from the version's templates, then
 * sent through the campaign's channel (a signed webhook, or email over SMTP) or, for every other
 * channel and for email without SMTP, only stored: the outbox.
 *
 * What becomes of a recipient (the channels' error contract, ./channels): delivered or sent; a
 * permanent refusal → `failed` with the channel's reason; no longer subscribed, or without the
 * channel's address, when its batch runs → `excluded`; a transient error (the channel threw: 5xx
 * after the webhook's own retries, SMTP 4xx, connection errors, time-outs) → no outcome at all: the
 * recipient stays pending, the batch stops sending, and the caller fails the attempt after
 * committing the outcomes so Temporal retries it later. Only when the caller says the run has been
 * failing for longer than its retry window (`giveUp`) does a transient error become `failed` with
 * reason `unreachable: <message>`.
 */
import Handlebars from 'handlebars';
import { renderTemplate } from '../domain/review';
import type { CampaignVersion, Channel } from '../domain/types';
import { createSmtpSender, createWebhookSender, type DeliveryResult } from './channels';
import type { DeliveryConfig } from './activities';
import { ADDRESS } from './store/runs';
import { addTracking, unsubscribeHeaders } from '../reports/tracking-links';

/**
 * A recipient, as a batch reads it: a profile, or (a triggered message to an address only) the
 * address with no profile behind it.
 */
export interface Recipient {
  /** Which recipient of the run or execution: a run's profile id, an execution's recipient index. */
  id: string;
  /** The profile, when it is not `id` (executions); null for an address without a profile. */
  profileId?: string | null;
  /** The trigger call's context, the execution's merged with the recipient's own (`{{context.x}}`). */
  context?: Record<string, unknown>;
  email: string | null;
  phone: string | null;
  push_token: string | null;
  subscribed: boolean;
  attributes: Record<string, unknown>;
}

/** What became of one recipient's message, as its `messages` row records it. */
export interface Outcome {
  id: string;
  status: 'sent' | 'delivered' | 'failed' | 'excluded';
  reason: string | null;
  rendered: Record<string, string> | null;
}

/** One batch: the outcomes to record, and the recipients left pending by a transient error. */
export interface BatchResult {
  outcomes: Outcome[];
  /** Transient errors (recipient id and message); those recipients have no outcome. */
  transient: Array<{ id: string; error: string }>;
}

/** What a batch belongs to: a run, or an execution of an api_triggered campaign. */
export interface SendJob {
  campaignId: string;
  version: CampaignVersion;
  channel: Channel;
  source: { run: number } | { execution: string };
  /** Whether marketing consent applies: an unsubscribed profile is excluded (default true). */
  consent?: boolean;
}

/** The key receivers deduplicate on: the same on every attempt of a message. */
export function messageKey(job: SendJob, r: Recipient): string {
  return 'run' in job.source
    ? `${job.campaignId}:${job.source.run}:${r.id}`
    : `${job.source.execution}:${r.id}`;
}

/** How a batch is sent. */
export interface SendOptions {
  /** Record transient errors as `failed` (`unreachable: …`): the run's retry window is over. */
  giveUp?: boolean;
  /** Called after each message that left (to heartbeat while a slow batch is in flight). */
  onSent?: () => void;
}

/** Sends batches through the channels `config` sets up. */
export interface BatchSender {
  /** Whether `channel` sends over the network (a webhook, or email with SMTP) rather than to the outbox. */
  isNetwork(channel: Channel): boolean;
  /** Renders and sends one message per recipient (see the file comment for what each outcome means). */
  send(job: SendJob, recipients: Recipient[], options?: SendOptions): Promise<BatchResult>;
}

/** The batch sender for `config`: one webhook sender, and an SMTP sender when SMTP is configured. */
export function createBatchSender(config: DeliveryConfig): BatchSender {
  const webhook = createWebhookSender({
    secret: config.webhookSecret,
    allowPrivate: config.webhookAllowPrivate ?? false,
    ...config.webhook,
  });
  const smtp = config.smtp ? createSmtpSender(config.smtp) : undefined;
  /** The rendered message with tracking links, pixel and unsubscribe added (when tracking is configured). */
  const renderTracked = (job: SendJob, r: Recipient) => {
    const rendered = render(job.version, r);
    if (!config.tracking) return rendered;
    const ref = { campaignId: job.campaignId, version: job.version.number, recipient: r.id };
    const source =
      'run' in job.source
        ? { source: 'run' as const, sourceId: String(job.source.run) }
        : { source: 'execution' as const, sourceId: job.source.execution };
    return addTracking(config.tracking, job.channel, { ...ref, ...source }, rendered);
  };

  const isNetwork = (channel: Channel) =>
    channel === 'webhook' || (channel === 'email' && smtp !== undefined);

  /** Sends one recipient's message over the network; a thrown error is transient. */
  async function sendOne(job: SendJob, r: Recipient, rendered: Record<string, string>) {
    const { version, channel } = job;
    const key = messageKey(job, r);
    const result: DeliveryResult =
      channel === 'webhook'
        ? await webhook(
            version.content.url!,
            {
              campaignId: job.campaignId,
              ...job.source,
              version: version.number,
              recipient: r.profileId === undefined ? r.id : r.profileId,
              message: rendered,
            },
            key,
          )
        : await smtp!.send({
            from: version.content.sender!,
            to: r.email!,
            subject: rendered.subject ?? '',
            text: rendered.body ?? '',
            ...(rendered.html !== undefined ? { html: rendered.html } : {}),
            headers: unsubscribeHeaders(rendered),
            messageId: `<${key}@campaign-orchestrator>`,
          });
    return outcome(channel, r, result, rendered);
  }

  return {
    isNetwork,
    async send(input, recipients, options = {}) {
      const result: BatchResult = { outcomes: [], transient: [] };
      const eligible: Recipient[] = [];
      for (const r of recipients) {
        const excluded = exclusion(input.channel, r, input.consent ?? true);
        if (excluded)
          result.outcomes.push({ id: r.id, status: 'excluded', reason: excluded, rendered: null });
        else eligible.push(r);
      }
      if (!isNetwork(input.channel)) {
        // outbox: the message is stored, readable through GET /v1/campaigns/:id/messages.
        for (const r of eligible) {
          result.outcomes.push(outcome(input.channel, r, { status: 'delivered' }, renderTracked(input, r)));
        }
        return result;
      }
      const concurrency = config.networkConcurrency ?? 10;
      for (let i = 0; i < eligible.length; i += concurrency) {
        const slice = eligible.slice(i, i + concurrency);
        await Promise.all(
          slice.map(async (r) => {
            const rendered = renderTracked(input, r);
            try {
              result.outcomes.push(await sendOne(input, r, rendered));
              options.onSent?.();
            } catch (error) {
              const message = (error as Error).message;
              if (options.giveUp) {
                result.outcomes.push({
                  id: r.id,
                  status: 'failed',
                  reason: `unreachable: ${message}`,
                  rendered,
                });
              } else {
                result.transient.push({ id: r.id, error: message });
              }
            }
          }),
        );
        // The channel is failing for now: the rest of the batch stays pending for the next attempt.
        if (result.transient.length > 0) break;
      }
      return result;
    },
  };
}

/** Why a recipient may no longer be sent to when its batch runs (it unsubscribed, or lost its address). */
function exclusion(channel: Channel, r: Recipient, consent: boolean): string | undefined {
  if (consent && !r.subscribed) return 'unsubscribed';
  const address = ADDRESS[channel];
  if (address && r[address.column] === null) return address.reason;
  return undefined;
}

/** A delivery result as a message status: a delivered webhook is `delivered`, other channels `sent`. */
function outcome(
  channel: Channel,
  r: Recipient,
  result: DeliveryResult,
  rendered: Record<string, string>,
): Outcome {
  return {
    id: r.id,
    status: result.status === 'delivered' ? (channel === 'webhook' ? 'delivered' : 'sent') : 'failed',
    reason: result.status === 'failed' ? result.reason : null,
    rendered,
  };
}

/**
 * How a rendered field is used. `text`: sent as it is and never parsed as markup (subject, text
 * body, SMS, push, the webhook's JSON, which JSON-encodes it): rendered unescaped. `html`: markup,
 * so every value from the profile is HTML-escaped (triple braces included); the template's own
 * markup stays. Every field the versions have today is text; an email `html` body would be `html`.
 */
export type FieldFormat = 'text' | 'html';

/** The templated fields of a version and their format. */
const FIELDS = { subject: 'text', title: 'text', body: 'text' } as const satisfies Record<
  string,
  FieldFormat
>;

const FIELD_FORMATS = Object.entries(FIELDS);

/** Renders one field's template against `data` (unknown fields render empty), escaping as `format` says. */
export function renderField(template: string, data: object, format: FieldFormat): string {
  // renderTemplate never escapes (noEscape): for HTML, the values are escaped before rendering.
  return renderTemplate(template, format === 'html' ? (escapeValues(data) as object) : data, false);
}

/** `data` with every string HTML-escaped, however deep. */
function escapeValues(data: unknown): unknown {
  if (typeof data === 'string') return Handlebars.Utils.escapeExpression(data);
  if (Array.isArray(data)) return data.map(escapeValues);
  if (data !== null && typeof data === 'object') {
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, escapeValues(v)]));
  }
  return data;
}

/**
 * A plain copy of `source`'s own enumerable properties. Object.assign rather than a spread: V8 spreads
 * an object parsed from JSON many times slower (it was most of a batch's rendering). A copy into `{}`
 * would run Object.prototype's `__proto__` setter for a `__proto__` key (JSON can have one), so such
 * an object is spread instead: its own `__proto__` property stays a plain property.
 */
function copyOf(source: Record<string, unknown>): Record<string, unknown> {
  return Object.hasOwn(source, '__proto__') ? { ...source } : Object.assign({}, source);
}

/** Renders the version's templates for one recipient. */
function render(version: CampaignVersion, r: Recipient): Record<string, string> {
  // Fields at the top level ({{firstName}}) and under `profile` ({{profile.attributes.tier}}).
  const fields = copyOf(r.attributes);
  fields.id = r.profileId === undefined ? r.id : r.profileId;
  fields.email = r.email;
  fields.phone = r.phone;
  fields.pushToken = r.push_token;
  fields.attributes = r.attributes;
  const data = copyOf(fields);
  data.profile = fields;
  data.context = r.context ?? {};
  const out: Record<string, string> = {};
  for (const [field, format] of FIELD_FORMATS) {
    const template = version.content[field as keyof typeof FIELDS];
    if (template) out[field] = renderField(template, data, format);
  }
  return out;
}
