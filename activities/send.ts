/**
 * Sending one batch of a run: each recipient's message rendered from the version's templates, then
 * sent through the campaign's channel (a signed webhook, or email over SMTP) or, for every other
 * channel and for email without SMTP, only stored: the outbox.
 */
import { renderTemplate } from '../domain/review';
import type { CampaignVersion, Channel } from '../domain/types';
import { createSmtpSender, createWebhookSender, type DeliveryResult } from './channels';
import type { DeliveryConfig, RunInput } from './delivery';

/** A profile, as a batch reads it. */
export interface Recipient {
  id: string;
  email: string | null;
  phone: string | null;
  push_token: string | null;
  attributes: Record<string, unknown>;
}

/** What became of one recipient's message, as its `messages` row records it. */
export interface Outcome {
  id: string;
  status: 'sent' | 'delivered' | 'failed';
  reason: string | null;
  rendered: Record<string, string>;
}

/** Sends batches through the channels `config` sets up. */
export interface BatchSender {
  /** Whether `channel` sends over the network (a webhook, or email with SMTP) rather than to the outbox. */
  isNetwork(channel: Channel): boolean;
  /** Renders and sends one message per recipient; a message that cannot be sent is an outcome `failed`. */
  send(input: RunInput, recipients: Recipient[]): Promise<Outcome[]>;
}

/** The batch sender for `config`: one webhook sender, and an SMTP sender when SMTP is configured. */
export function createBatchSender(config: DeliveryConfig): BatchSender {
  const webhook = createWebhookSender({ secret: config.webhookSecret, ...config.webhook });
  const smtp = config.smtp ? createSmtpSender(config.smtp) : undefined;

  const isNetwork = (channel: Channel) =>
    channel === 'webhook' || (channel === 'email' && smtp !== undefined);

  /** Sends one recipient's message over the network; a thrown error is recorded as `unreachable`. */
  async function sendOne(input: RunInput, r: Recipient): Promise<Outcome> {
    const { version, channel } = input;
    const rendered = render(version, r);
    const key = `${input.campaignId}:${input.number}:${r.id}`;
    try {
      const result =
        channel === 'webhook'
          ? await webhook(
              version.content.url!,
              {
                campaignId: input.campaignId,
                run: input.number,
                version: version.number,
                recipient: r.id,
                message: rendered,
              },
              key,
            )
          : await smtp!.send({
              from: version.content.sender!,
              to: r.email!,
              subject: rendered.subject ?? '',
              text: rendered.body ?? '',
              messageId: `<${key}@campaign-orchestrator>`,
            });
      return outcome(channel, r, result, rendered);
    } catch (error) {
      return outcome(
        channel,
        r,
        { status: 'failed', reason: `unreachable: ${(error as Error).message}` },
        rendered,
      );
    }
  }

  return {
    isNetwork,
    async send(input, recipients) {
      if (!isNetwork(input.channel)) {
        // outbox: the message is stored, readable through GET /v1/campaigns/:id/messages.
        return recipients.map((r) =>
          outcome(input.channel, r, { status: 'delivered' }, render(input.version, r)),
        );
      }
      const results: Outcome[] = [];
      const concurrency = config.networkConcurrency ?? 10;
      for (let i = 0; i < recipients.length; i += concurrency) {
        const slice = recipients.slice(i, i + concurrency);
        results.push(...(await Promise.all(slice.map((r) => sendOne(input, r)))));
      }
      return results;
    },
  };
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

/** Renders the version's templates for one recipient (unknown fields render empty). */
function render(version: CampaignVersion, r: Recipient): Record<string, string> {
  // Fields at the top level ({{firstName}}) and under `profile` ({{profile.attributes.tier}}).
  const data: Record<string, unknown> = {
    ...r.attributes,
    id: r.id,
    email: r.email,
    phone: r.phone,
    pushToken: r.push_token,
    attributes: r.attributes,
  };
  data.profile = data;
  const out: Record<string, string> = {};
  for (const field of ['subject', 'title', 'body'] as const) {
    const template = version.content[field];
    if (template) out[field] = renderTemplate(template, data, false);
  }
  return out;
}
