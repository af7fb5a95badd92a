/**
 * Campaigns for tests that look at delivery from the outside: an audience of fresh profiles, a
 * one-shot campaign started and activated on a task queue, bounded waits, and what a run ended with
 * as recorded in `messages` and as seen by a receiver.
 */
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Pool } from 'pg';
import type { CampaignContent, Channel } from '../../domain/types';
import type { campaignWorkflow } from '../../workflows/campaign';
import { activateUpdate, campaignWorkflowId, projectedUpdate, stateQuery } from '../../workflows/messages';
import type { WebhookReceiver } from './receivers';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` every 100 ms until it returns true; a probe that throws (a service restarting)
 * counts as false. Rejects after `ms`, naming `what` and adding `context()` (e.g. a worker's output).
 */
export async function until(
  what: string,
  probe: () => Promise<boolean> | boolean,
  ms: number,
  context?: () => string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(probe)
        .catch(() => false)
    )
      return;
    await sleep(100);
  }
  throw new Error(`${what}: not within ${ms / 1000} s${context ? `\n${context()}` : ''}`);
}

/** What a test may change about profile i of a new audience. */
export interface ProfileVariation {
  subscribed?: boolean;
  /** null: no address for the channel. */
  email?: string | null;
}

/**
 * `n` new profiles (ids `<prefix>-00001`…, sorted; `<id>@example.com`; firstName `P<i+1>`, tier
 * silver/gold alternating; subscribed unless `vary` says otherwise) and a static audience of them.
 */
export async function createAudience(
  pool: Pool,
  n: number,
  vary: (i: number) => ProfileVariation = () => ({}),
): Promise<{ audienceId: string; ids: string[] }> {
  const prefix = randomUUID().slice(0, 8);
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);
  await pool.query(
    `INSERT INTO profiles (id, email, attributes, subscribed, consent)
     SELECT *, CASE WHEN s THEN 'subscribed' ELSE 'unsubscribed' END
       FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::boolean[]) AS x(i, e, a, s)`,
    [
      ids,
      ids.map((id, i) => (vary(i).email === null ? null : `${id}@example.com`)),
      ids.map((_, i) => JSON.stringify({ firstName: `P${i + 1}`, tier: i % 2 ? 'gold' : 'silver' })),
      ids.map((_, i) => vary(i).subscribed ?? true),
    ],
  );
  const audienceId = randomUUID();
  await pool.query(`INSERT INTO audiences (id, name) VALUES ($1, $2)`, [audienceId, `aud-${prefix}`]);
  await pool.query(`INSERT INTO audience_members (audience_id, profile_id) SELECT $1, unnest($2::text[])`, [
    audienceId,
    ids,
  ]);
  return { audienceId, ids };
}

export interface TestCampaign {
  id: string;
  handle: WorkflowHandle<typeof campaignWorkflow>;
}

let requests = 0;
const meta = () => ({ requestId: `fault-${++requests}-${randomUUID().slice(0, 8)}`, actor: 'tester' });

/**
 * Starts a one-shot campaign on `taskQueue` and activates it: its one run starts at once. A
 * `webhookUrl` makes it a webhook campaign; otherwise it is an email campaign, which goes to the
 * outbox (the workers here have no SMTP_URL).
 */
export async function startCampaign(
  client: Client,
  taskQueue: string,
  options: { audienceId: string; webhookUrl?: string; throttle?: number },
): Promise<TestCampaign> {
  const id = randomUUID();
  const channel: Channel = options.webhookUrl ? 'webhook' : 'email';
  const content: CampaignContent = options.webhookUrl
    ? { url: options.webhookUrl, body: 'Hi {{firstName}}' }
    : { sender: 'news@shop.example', subject: 'Hi {{firstName}}', body: 'Hello {{firstName}}' };
  const handle = await client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
    workflowId: campaignWorkflowId(id),
    taskQueue,
    args: [
      {
        create: {
          campaignId: id,
          name: 'fault',
          type: 'scheduled',
          channel,
          content,
          audience: { audienceId: options.audienceId },
          ...(options.throttle ? { throttle: options.throttle } : {}),
          ...meta(),
        },
      },
    ],
  });
  await handle.executeUpdate(projectedUpdate);
  await handle.executeUpdate(activateUpdate, { args: [meta()] });
  return { id, handle };
}

/** Messages of campaign `id` that left (status `sent` or `delivered`). */
export async function sentCount(pool: Pool, id: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND status IN ('sent', 'delivered')`,
    [id],
  );
  return rows[0].n;
}

/** Whether the campaign's one run is recorded finished, and the campaign workflow says `completed`. */
export async function runFinished(pool: Pool, campaign: TestCampaign): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT 1 FROM campaign_runs WHERE campaign_id = $1 AND finished_at IS NOT NULL`,
    [campaign.id],
  );
  return rows.length === 1 && (await campaign.handle.query(stateQuery)).status === 'completed';
}

/**
 * What a run ended with, in figures that must add up: `sent` recipients with a sent/delivered row,
 * `excluded` ones, `lost` ones (in the audience, yet neither sent nor excluded), `duplicated`
 * (extra rows per recipient in `messages`, plus extra requests per key at the receiver), and the
 * statuses of the run row and of the campaign.
 */
export interface RunSummary {
  audience: number;
  sent: number;
  excluded: number;
  lost: number;
  duplicated: number;
  /** Requests the receiver got (unique keys + duplicates); omitted for the outbox. */
  received?: number;
  run: string | null;
  campaign: string | null;
}

export async function summarise(
  pool: Pool,
  campaign: TestCampaign,
  ids: string[],
  receiver?: WebhookReceiver,
): Promise<RunSummary> {
  const { rows } = await pool.query<{ profile_id: string; status: string; n: number }>(
    `SELECT profile_id, min(status) AS status, count(*)::int AS n FROM messages WHERE campaign_id = $1
     GROUP BY profile_id`,
    [campaign.id],
  );
  const status = new Map(rows.map((r) => [r.profile_id, r.status]));
  const sent = ids.filter((id) => ['sent', 'delivered'].includes(status.get(id) ?? '')).length;
  const excluded = ids.filter((id) => status.get(id) === 'excluded').length;
  let duplicated = rows.reduce((sum, r) => sum + r.n - 1, 0);
  if (receiver) {
    const prefix = `${campaign.id}:`;
    for (const [key, n] of receiver.hits) if (key.startsWith(prefix)) duplicated += n - 1;
  }
  const run = await pool.query<{ status: string }>(
    `SELECT status FROM campaign_runs WHERE campaign_id = $1`,
    [campaign.id],
  );
  const state = await campaign.handle.query(stateQuery).catch(() => null);
  return {
    audience: ids.length,
    sent,
    excluded,
    lost: ids.length - sent - excluded,
    duplicated,
    ...(receiver
      ? { received: receiver.received.filter((r) => r.key.startsWith(`${campaign.id}:`)).length }
      : {}),
    run: run.rows[0]?.status ?? null,
    campaign: state?.status ?? null,
  };
}
