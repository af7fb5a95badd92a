/**
 * Delivery activities: snapshot a run's audience into one message row per recipient, send them in
 * batches through the campaign's channel, and stop exactly when told.
 *
 * Exactly-once bookkeeping: the key (campaign, run, recipient) is the primary key of `messages`, so
 * a snapshot taken twice adds nobody twice, and only `pending` rows are ever sent. Stopping: every
 * batch runs in a transaction that first takes a share lock on its run row and sends only while the
 * run is `running`; `cancelRun` updates that row (waiting for a batch in flight to commit), so once it
 * returns no further message can leave.
 */
import { Context } from '@temporalio/activity';
import type { Pool, PoolClient } from 'pg';
import { renderTemplate } from '../workflows/review';
import type { CampaignVersion, Channel } from '../workflows/types';
import {
  createSmtpSender,
  createWebhookSender,
  type DeliveryResult,
  type SmtpSenderOptions,
} from './channels';

export interface DeliveryConfig {
  /** HMAC key that signs webhook bodies. */
  webhookSecret: string;
  /** SMTP server for email campaigns; without it email goes to the outbox. */
  smtp?: SmtpSenderOptions;
  /** Recipients per batch for the outbox (default 1000). */
  outboxBatch?: number;
  /** Recipients per batch for network channels (default 50), sent with this much concurrency (10). */
  networkBatch?: number;
  networkConcurrency?: number;
  webhook?: { timeoutMs?: number; attempts?: number; minBackoffMs?: number };
}

export interface RunRef {
  campaignId: string;
  number: number;
}

export interface RunInput extends RunRef {
  version: CampaignVersion;
  channel: Channel;
}

/** Message counts of a run; they add up to `recipients`. */
export interface RunCounts {
  recipients: number;
  pending: number;
  sent: number;
  delivered: number;
  failed: number;
  excluded: number;
  cancelled: number;
}

/** Which profile field a channel needs, for exclusion at snapshot time. */
const ADDRESS: Partial<Record<Channel, { column: string; reason: string }>> = {
  email: { column: 'email', reason: 'no email address' },
  sms: { column: 'phone', reason: 'no phone number' },
  push: { column: 'push_token', reason: 'no push token' },
};

interface Recipient {
  id: string;
  email: string | null;
  phone: string | null;
  push_token: string | null;
  attributes: Record<string, unknown>;
}

interface Outcome {
  id: string;
  status: 'sent' | 'delivered' | 'failed';
  reason: string | null;
  rendered: Record<string, string>;
}

export function createDeliveryActivities(pool: Pool, config: DeliveryConfig) {
  const webhook = createWebhookSender({ secret: config.webhookSecret, ...config.webhook });
  const smtp = config.smtp ? createSmtpSender(config.smtp) : undefined;

  async function inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async function counts(client: Pool | PoolClient, { campaignId, number }: RunRef): Promise<RunCounts> {
    const { rows } = await client.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM messages WHERE campaign_id = $1 AND run_number = $2 GROUP BY status`,
      [campaignId, number],
    );
    const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    const c = {
      pending: by.pending ?? 0,
      sent: by.sent ?? 0,
      delivered: by.delivered ?? 0,
      failed: by.failed ?? 0,
      excluded: by.excluded ?? 0,
      cancelled: by.cancelled ?? 0,
    };
    return { recipients: Object.values(c).reduce((a, b) => a + b, 0), ...c };
  }

  /** Renders the version's templates for one recipient (unknown fields render empty). */
  function render(version: CampaignVersion, r: Recipient): Record<string, string> {
    const profile = { ...r.attributes, id: r.id, email: r.email, phone: r.phone, pushToken: r.push_token };
    const data = { ...profile, profile: { ...profile, attributes: r.attributes } };
    const out: Record<string, string> = {};
    for (const field of ['subject', 'title', 'body'] as const) {
      const template = version.content[field];
      if (template) out[field] = renderTemplate(template, data, false);
    }
    return out;
  }

  async function send(input: RunInput, recipients: Recipient[]): Promise<Outcome[]> {
    const { version, channel } = input;
    const outcome = (r: Recipient, result: DeliveryResult, rendered: Record<string, string>): Outcome => ({
      id: r.id,
      status: result.status === 'delivered' ? (channel === 'webhook' ? 'delivered' : 'sent') : 'failed',
      reason: result.status === 'failed' ? result.reason : null,
      rendered,
    });
    if (channel === 'webhook' || (channel === 'email' && smtp)) {
      const results: Outcome[] = [];
      const concurrency = config.networkConcurrency ?? 10;
      for (let i = 0; i < recipients.length; i += concurrency) {
        const slice = recipients.slice(i, i + concurrency);
        results.push(
          ...(await Promise.all(
            slice.map(async (r) => {
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
                return outcome(r, result, rendered);
              } catch (error) {
                return outcome(
                  r,
                  { status: 'failed', reason: `unreachable: ${(error as Error).message}` },
                  rendered,
                );
              }
            }),
          )),
        );
      }
      return results;
    }
    // outbox: the message is stored, readable through GET /v1/campaigns/:id/messages.
    return recipients.map((r) => outcome(r, { status: 'delivered' }, render(version, r)));
  }

  return {
    /** Creates the run row and snapshots its audience: one `pending` or `excluded` row per profile. */
    async prepareRun(input: RunInput): Promise<RunCounts> {
      const { campaignId, number, version, channel } = input;
      return inTransaction(async (client) => {
        await client.query(
          `INSERT INTO campaign_runs (campaign_id, number, version, status) VALUES ($1, $2, $3, 'running')
           ON CONFLICT DO NOTHING`,
          [campaignId, number, version.number],
        );
        const audienceId = version.audience?.audienceId;
        const audience = audienceId
          ? (
              await client.query<{ filter: object | null }>(`SELECT filter FROM audiences WHERE id = $1`, [
                audienceId,
              ])
            ).rows[0]
          : undefined;
        if (audience) {
          const address = ADDRESS[channel];
          const source = audience.filter
            ? { from: 'profiles p', where: 'p.attributes @> $4::jsonb', arg: JSON.stringify(audience.filter) }
            : {
                from: 'audience_members m JOIN profiles p ON p.id = m.profile_id',
                where: 'm.audience_id = $4',
                arg: audienceId,
              };
          await client.query(
            `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason)
             SELECT $1, $2, p.id, $3,
                    CASE WHEN NOT p.subscribed THEN 'excluded'
                         ${address ? `WHEN p.${address.column} IS NULL THEN 'excluded'` : ''}
                         ELSE 'pending' END,
                    CASE WHEN NOT p.subscribed THEN 'unsubscribed'
                         ${address ? `WHEN p.${address.column} IS NULL THEN $5` : ''}
                         END
             FROM ${source.from} WHERE ${source.where}
             ON CONFLICT DO NOTHING`,
            [campaignId, number, version.number, source.arg, ...(address ? [address.reason] : [])],
          );
        }
        const c = await counts(client, input);
        await client.query(
          `UPDATE campaign_runs SET recipients = $3 WHERE campaign_id = $1 AND number = $2`,
          [campaignId, number, c.recipients],
        );
        return c;
      });
    },

    /**
     * Sends the run's pending messages in batches, heartbeating progress. Returns when none is left,
     * when the run is no longer `running` (stopped), or when the activity is cancelled.
     */
    async deliverRun(input: RunInput): Promise<RunCounts> {
      const { campaignId, number, version, channel } = input;
      const ctx = Context.current();
      const network = channel === 'webhook' || (channel === 'email' && smtp !== undefined);
      let batch = network ? (config.networkBatch ?? 50) : (config.outboxBatch ?? 1000);
      if (version.throttle) batch = Math.min(batch, version.throttle);
      for (;;) {
        if (ctx.cancellationSignal.aborted) break;
        const started = Date.now();
        const sent = await inTransaction(async (client) => {
          const run = await client.query<{ status: string }>(
            `SELECT status FROM campaign_runs WHERE campaign_id = $1 AND number = $2 FOR SHARE`,
            [campaignId, number],
          );
          if (run.rows[0]?.status !== 'running') return -1;
          const { rows } = await client.query<Recipient>(
            `SELECT p.id, p.email, p.phone, p.push_token, p.attributes
             FROM messages m JOIN profiles p ON p.id = m.profile_id
             WHERE m.campaign_id = $1 AND m.run_number = $2 AND m.status = 'pending'
             ORDER BY m.profile_id LIMIT $3`,
            [campaignId, number, batch],
          );
          if (rows.length === 0) return 0;
          const outcomes = await send(input, rows);
          await client.query(
            `UPDATE messages m SET status = x.status, reason = x.reason, rendered = x.rendered, sent_at = now()
             FROM unnest($3::text[], $4::text[], $5::text[], $6::jsonb[]) AS x(id, status, reason, rendered)
             WHERE m.campaign_id = $1 AND m.run_number = $2 AND m.profile_id = x.id AND m.status = 'pending'`,
            [
              campaignId,
              number,
              outcomes.map((o) => o.id),
              outcomes.map((o) => o.status),
              outcomes.map((o) => o.reason),
              outcomes.map((o) => JSON.stringify(o.rendered)),
            ],
          );
          return rows.length;
        });
        if (sent <= 0) break;
        ctx.heartbeat({ lastBatch: sent });
        if (version.throttle) {
          const wait = (sent / version.throttle) * 1000 - (Date.now() - started);
          if (wait > 0) await ctx.sleep(wait).catch(() => undefined);
        }
      }
      return counts(pool, input);
    },

    /** Marks the run finished (unless it was cancelled) and returns its final counts. */
    async finishRun(ref: RunRef): Promise<RunCounts & { status: string }> {
      return inTransaction(async (client) => {
        const { rows } = await client.query<{ status: string }>(
          `UPDATE campaign_runs
              SET status = CASE WHEN status = 'running' THEN 'completed' ELSE status END,
                  finished_at = coalesce(finished_at, now())
            WHERE campaign_id = $1 AND number = $2 RETURNING status`,
          [ref.campaignId, ref.number],
        );
        return { ...(await counts(client, ref)), status: rows[0]?.status ?? 'completed' };
      });
    },

    /**
     * Cancels a run: waits for a batch in flight to commit, then no batch can send again; pending
     * messages become `cancelled`. Returns the counts for the stop receipt.
     */
    async cancelRun(ref: RunRef): Promise<RunCounts> {
      return inTransaction(async (client) => {
        await client.query(
          `UPDATE campaign_runs SET status = 'cancelled', finished_at = now()
            WHERE campaign_id = $1 AND number = $2 AND status = 'running'`,
          [ref.campaignId, ref.number],
        );
        await client.query(
          `UPDATE messages SET status = 'cancelled', reason = 'campaign stopped'
            WHERE campaign_id = $1 AND run_number = $2 AND status = 'pending'`,
          [ref.campaignId, ref.number],
        );
        return counts(client, ref);
      });
    },

    /** Current counts of a run (for a `drain` stop receipt). */
    async runCounts(ref: RunRef): Promise<RunCounts> {
      return counts(pool, ref);
    },
  };
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
