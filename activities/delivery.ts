/**
 * Delivery activities: snapshot a run's audience into one message row per recipient, send them in
 * batches through the campaign's channel, and stop exactly when told.
 *
 * Exactly-once bookkeeping: a run's audience is snapshotted into `run_recipients` (sorted chunks of
 * profile ids, one compact row per 10,000); a recipient is pending until it has a `messages` row, whose primary key (campaign, run, recipient) makes a second
 * message impossible, even when a crashed batch is retried. Stopping: every batch runs in a
 * transaction that first takes a share lock on its run row and sends only while the run is
 * `running`; `cancelRun` updates that row (waiting for a batch in flight to commit), so once it
 * returns no further message can leave.
 */
import { Context } from '@temporalio/activity';
import type { Pool, PoolClient } from 'pg';
import { renderTemplate } from '../domain/review';
import type { CampaignVersion, Channel } from '../domain/types';
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
  /** Recipients per batch for the outbox (default 4000), and parallel batches (default 2). */
  outboxBatch?: number;
  outboxLanes?: number;
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

/** Profile ids per snapshot row. */
const CHUNK = 10_000;

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
      `SELECT status, count(*) AS n FROM messages WHERE campaign_id = $1 AND run_number = $2 GROUP BY status
       UNION ALL
       SELECT 'snapshot', coalesce(sum(cardinality(profile_ids)), 0) FROM run_recipients
        WHERE campaign_id = $1 AND run_number = $2`,
      [campaignId, number],
    );
    const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    const done = (by.sent ?? 0) + (by.delivered ?? 0) + (by.failed ?? 0) + (by.cancelled ?? 0);
    const c = {
      pending: (by.snapshot ?? 0) - done,
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
          // `where(n)`: the audience condition, with its argument as parameter $n.
          const source = audience.filter
            ? {
                from: 'profiles p',
                where: (n: number) => `p.attributes @> $${n}::jsonb`,
                arg: JSON.stringify(audience.filter),
              }
            : {
                from: 'audience_members m JOIN profiles p ON p.id = m.profile_id',
                where: (n: number) => `m.audience_id = $${n}::uuid`,
                arg: audienceId,
              };
          const eligible = `p.subscribed${address ? ` AND p.${address.column} IS NOT NULL` : ''}`;
          // The recipients to send to, in sorted chunks of 10,000 ids…
          await client.query(
            `INSERT INTO run_recipients (campaign_id, run_number, chunk, profile_ids)
             SELECT $1, $2, (rn - 1) / ${CHUNK}, array_agg(id ORDER BY id)
             FROM (SELECT p.id, row_number() OVER (ORDER BY p.id) AS rn
                   FROM ${source.from} WHERE ${source.where(3)} AND ${eligible}) s
             GROUP BY (rn - 1) / ${CHUNK}
             ON CONFLICT DO NOTHING`,
            [campaignId, number, source.arg],
          );
          // …and the excluded ones, recorded at once with the reason.
          await client.query(
            `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason)
             SELECT $1, $2, p.id, $3, 'excluded',
                    CASE WHEN NOT p.subscribed THEN 'unsubscribed' ${address ? `ELSE $5` : ''} END
             FROM ${source.from} WHERE ${source.where(4)} AND NOT (${eligible})
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
      let batch = network ? (config.networkBatch ?? 50) : (config.outboxBatch ?? 4000);
      if (version.throttle) batch = Math.min(batch, version.throttle);
      // Outbox batches run in parallel lanes (JS rendering overlaps database writes); a throttle or
      // a network channel uses one lane. Which recipients are pending is read from the database, so
      // a retried attempt resumes exactly where the last committed batch left off.
      const lanes = network || version.throttle ? 1 : (config.outboxLanes ?? 2);
      let chunk = -1;
      let pending: string[] = [];
      let finished = false;
      let sentSoFar = 0;
      let queue: Promise<unknown> = Promise.resolve();
      /** The next batch of pending ids: chunk by chunk, minus those that already have a message. */
      const nextBatch = (): Promise<string[]> => {
        const next = queue.then(async () => {
          while (!finished && pending.length === 0) {
            const { rows } = await pool.query<{ chunk: number; profile_ids: string[] }>(
              `SELECT chunk, profile_ids FROM run_recipients
               WHERE campaign_id = $1 AND run_number = $2 AND chunk > $3 ORDER BY chunk LIMIT 1`,
              [campaignId, number, chunk],
            );
            if (rows.length === 0) {
              finished = true;
              break;
            }
            chunk = rows[0].chunk;
            const done = await pool.query<{ profile_id: string }>(
              `SELECT profile_id FROM messages
               WHERE campaign_id = $1 AND run_number = $2 AND profile_id = ANY($3::text[])`,
              [campaignId, number, rows[0].profile_ids],
            );
            const sent = new Set(done.rows.map((r) => r.profile_id));
            pending = rows[0].profile_ids.filter((id) => !sent.has(id));
          }
          return pending.splice(0, batch);
        });
        queue = next.catch(() => undefined);
        return next;
      };
      const lane = async () => {
        while (!ctx.cancellationSignal.aborted) {
          const ids = await nextBatch();
          if (ids.length === 0) return;
          const started = Date.now();
          const sent = await inTransaction(async (client) => {
            const run = await client.query<{ status: string }>(
              `SELECT status FROM campaign_runs WHERE campaign_id = $1 AND number = $2 FOR SHARE`,
              [campaignId, number],
            );
            if (run.rows[0]?.status !== 'running') return -1;
            const { rows } = await client.query<Recipient>(
              `SELECT id, email, phone, push_token, attributes FROM profiles WHERE id = ANY($1::text[])`,
              [ids],
            );
            const outcomes = await send(input, rows);
            await client.query(
              `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason, rendered, sent_at)
               SELECT $1, $2, x.id, $3, x.status, x.reason, x.rendered, now()
               FROM unnest($4::text[], $5::text[], $6::text[], $7::jsonb[]) AS x(id, status, reason, rendered)
               ON CONFLICT DO NOTHING`,
              [
                campaignId,
                number,
                version.number,
                outcomes.map((o) => o.id),
                outcomes.map((o) => o.status),
                outcomes.map((o) => o.reason),
                outcomes.map((o) => JSON.stringify(o.rendered)),
              ],
            );
            return rows.length;
          });
          if (sent < 0) {
            finished = true; // the run was stopped
            pending = [];
            return;
          }
          sentSoFar += sent;
          ctx.heartbeat({ sent: sentSoFar });
          if (version.throttle) {
            const wait = (sent / version.throttle) * 1000 - (Date.now() - started);
            if (wait > 0) await ctx.sleep(wait).catch(() => undefined);
          }
        }
      };
      await Promise.all(Array.from({ length: lanes }, lane));
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
          `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason)
           SELECT r.campaign_id, r.run_number, unnest(r.profile_ids), run.version, 'cancelled', 'campaign stopped'
           FROM run_recipients r JOIN campaign_runs run ON run.campaign_id = r.campaign_id AND run.number = r.run_number
           WHERE r.campaign_id = $1 AND r.run_number = $2
           ON CONFLICT DO NOTHING`,
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
