/**
 * Benchmarks of API triggers (`npm run bench`, BENCH_ONLY=triggers): a steady stream of trigger
 * calls at a fixed rate through the HTTP API (autocannon as the load generator), and a stream of
 * 20-recipient calls next to the delivery ceiling (the same rows bulk-inserted) measured in the same
 * run. Both on an outbox (sms) campaign, so the figures are the service's own, not a receiver's.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { campaignWorkflowId } from '../../workflows/messages';
import type { BenchContext } from './scenarios';

/** Creates and activates a transactional sms campaign through the API; returns its id. */
async function liveCampaign(ctx: BenchContext): Promise<string> {
  const call = async (path: string, body: object) => {
    const res = await fetch(`${ctx.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const { id } = await call('/v1/campaigns', {
    name: `trigger bench ${randomUUID().slice(0, 6)}`,
    type: 'api_triggered',
    category: 'transactional',
    channel: 'sms',
    content: { body: 'Your code is {{context.code}}' },
  });
  await call(`/v1/campaigns/${id}/activate`, {});
  return id;
}

/** Fires trigger calls at `rate` per second for `seconds`; autocannon's own figures. */
async function fire(ctx: BenchContext, id: string, rate: number, seconds: number, recipients: number) {
  const list = Array.from({ length: recipients }, (_, i) => ({ phone: `+336${String(i).padStart(8, '0')}` }));
  // One call first: a refusal here is a bench bug, shown rather than counted 10,000 times.
  const probe = await fetch(`${ctx.apiUrl}/v1/campaigns/${id}/trigger`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ context: { code: 'probe' }, recipients: list }),
  });
  if (probe.status !== 202) throw new Error(`trigger probe: ${probe.status} ${await probe.text()}`);
  return autocannon({
    url: `${ctx.apiUrl}/v1/campaigns/${id}/trigger`,
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ context: { code: '[<id>]' }, recipients: list }),
    idReplacement: true,
    overallRate: rate,
    connections: 50,
    duration: seconds,
    // Its own thread: the load generator does not share the API's event loop.
    workers: 1,
  });
}

/** Waits until the campaign's queue is empty; returns when. */
export async function drained(ctx: BenchContext, id: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await ctx.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM execution_messages WHERE campaign_id = $1 AND status = 'queued'`,
      [id],
    );
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0].n} messages still queued`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Accept → message recorded, in ms: p50 and p99 over every message of the campaign. */
async function acceptToRecorded(ctx: BenchContext, id: string) {
  const { rows } = await ctx.pool.query<{ p50: number; p99: number; n: number; span: number }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, count(*)::int AS n,
            extract(epoch FROM max(sent_at) - min(created_at))::float8 AS span
       FROM (SELECT extract(epoch FROM m.sent_at - e.created_at) * 1000 AS ms, m.sent_at, e.created_at
               FROM execution_messages m JOIN executions e ON e.id = m.execution_id
              WHERE m.campaign_id = $1 AND m.status = 'sent') x`,
    [id],
  );
  return rows[0];
}

/**
 * Trigger calls at a fixed rate (1 recipient each): accepted per second, accept latency, accept →
 * recorded, and the campaign's history length (after 10,000 calls, and at the end).
 */
export async function triggerRateScenario(ctx: BenchContext, rate: number, seconds: number) {
  const id = await liveCampaign(ctx);
  const handle = ctx.client.workflow.getHandle(campaignWorkflowId(id));
  const historyBefore = (await handle.describe()).historyLength;
  let historyAt10k: number | null = null;
  const sampler = setInterval(() => {
    if (historyAt10k !== null) return;
    void ctx.pool
      .query<{ n: number }>(`SELECT count(*)::int AS n FROM executions WHERE campaign_id = $1`, [id])
      .then(async ({ rows }) => {
        if (rows[0].n >= 10_000 && historyAt10k === null)
          historyAt10k = (await handle.describe()).historyLength;
      })
      .catch(() => undefined);
  }, 1000);
  let load: autocannon.Result;
  try {
    load = await fire(ctx, id, rate, seconds, 1);
  } finally {
    clearInterval(sampler);
  }
  await drained(ctx, id);
  const recorded = await acceptToRecorded(ctx, id);
  return {
    offeredPerSecond: rate,
    seconds,
    accepted: load['2xx'],
    refusedOrFailed: load.non2xx + load.errors + load.timeouts,
    acceptedPerSecond: Math.round(load['2xx'] / seconds),
    acceptMs: { p50: load.latency.p50, p99: load.latency.p99, max: load.latency.max },
    acceptToRecordedMs: { p50: Math.round(recorded.p50), p99: Math.round(recorded.p99) },
    historyLength: {
      before: historyBefore,
      after10k: historyAt10k,
      atEnd: (await handle.describe()).historyLength,
    },
  };
}

/** 20-recipient calls: messages recorded per second, next to the bulk-insert ceiling of the same rows. */
export async function triggerThroughputScenario(ctx: BenchContext, rate: number, seconds: number) {
  const id = await liveCampaign(ctx);
  const load = await fire(ctx, id, rate, seconds, 20);
  await drained(ctx, id);
  const recorded = await acceptToRecorded(ctx, id);
  const perSecond = recorded.n / recorded.span;

  // The ceiling, as the delivery scenario measures it: as many rows, rendered here and bulk-inserted
  // 1,000 a statement (unnest of arrays) into a copy of the table.
  const table = `execution_messages_ceiling_${randomUUID().slice(0, 8)}`;
  await ctx.pool.query(`CREATE TABLE ${table} (LIKE execution_messages INCLUDING ALL)`);
  const started = performance.now();
  const execution = randomUUID();
  for (let i = 0; i < recorded.n; i += 1000) {
    const n = Math.min(1000, recorded.n - i);
    const recipients = Array.from({ length: n }, (_, k) => i + k);
    await ctx.pool.query(
      `INSERT INTO ${table} (execution_id, recipient, campaign_id, version, address, status, rendered, sent_at)
       SELECT $1, r, $2, 1, a, 'sent', x, now() FROM unnest($3::int[], $4::text[], $5::jsonb[]) AS u(r, a, x)`,
      [
        execution,
        id,
        recipients,
        recipients.map((r) => `+336${String(r).padStart(8, '0')}`),
        recipients.map((r) => JSON.stringify({ body: `Your code is ${r}` })),
      ],
    );
  }
  const ceiling = recorded.n / ((performance.now() - started) / 1000);
  await ctx.pool.query(`DROP TABLE ${table}`);
  return {
    callsPerSecondOffered: rate,
    callsAccepted: load['2xx'],
    refusedOrFailed: load.non2xx + load.errors + load.timeouts,
    messages: recorded.n,
    messagesPerSecond: Math.round(perSecond),
    ceilingBulkInsertRowsPerSecond: Math.round(ceiling),
    ratioToCeiling: Number((perSecond / ceiling).toFixed(2)),
    acceptMs: { p50: load.latency.p50, p99: load.latency.p99 },
    acceptToRecordedMs: { p50: Math.round(recorded.p50), p99: Math.round(recorded.p99) },
  };
}
