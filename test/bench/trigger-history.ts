/**
 * The history of a busy api_triggered campaign (`npm run bench`, BENCH_ONLY=triggerHistory): one
 * outbox (sms) campaign receives BENCH_TRIGGER_CALLS trigger calls (1 recipient each) through the
 * HTTP API at a steady BENCH_TRIGGER_RATE per second, never pausing; at the end, the current run's
 * history length, the longest run's, and how many runs continue-as-new made, next to the ceiling
 * `maxHistoryEvents` (the workflow's default, or BENCH_TRIGGER_MAX_HISTORY to see it continue sooner).
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import type { campaignWorkflow } from '../../workflows/campaign';
import { DEFAULT_MAX_HISTORY_EVENTS } from '../../workflows/campaign';
import { activateUpdate, campaignWorkflowId } from '../../workflows/messages';
import type { BenchContext } from './scenarios';
import { drained } from './triggers';

export interface TriggerHistoryOptions {
  calls: number;
  /** Calls offered per second. */
  rate: number;
  /** The campaign's `maxHistoryEvents` (default: the workflow's, 2,000). */
  maxHistoryEvents?: number;
}

/** The history figures of one campaign: every run of its workflow id, through visibility. */
async function historyOf(ctx: BenchContext, workflowId: string) {
  const lengths: number[] = [];
  for await (const run of ctx.client.workflow.list({ query: `WorkflowId="${workflowId}"` })) {
    lengths.push(run.historyLength);
  }
  const current = (await ctx.client.workflow.getHandle(workflowId).describe()).historyLength;
  return { current, runs: Math.max(lengths.length, 1), longestRun: Math.max(current, ...lengths) };
}

export async function triggerHistoryScenario(ctx: BenchContext, options: TriggerHistoryOptions) {
  const ceiling = options.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  // Started through the client (the API takes no workflow options), then activated: the API reads
  // the projected row on each call, as for any campaign.
  const id = randomUUID();
  const handle = await ctx.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
    workflowId: campaignWorkflowId(id),
    taskQueue: ctx.taskQueue,
    args: [
      {
        create: {
          campaignId: id,
          name: `trigger history bench ${id.slice(0, 6)}`,
          type: 'api_triggered',
          category: 'transactional',
          channel: 'sms',
          content: { body: 'Your order {{context.code}} shipped' },
          requestId: 'create',
          actor: 'bench',
        },
        options: { maxHistoryEvents: ceiling },
      },
    ],
  });
  await handle.executeUpdate(activateUpdate, { args: [{ requestId: 'activate', actor: 'bench' }] });
  const load = await autocannon({
    url: `${ctx.apiUrl}/v1/campaigns/${id}/trigger`,
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ context: { code: '[<id>]' }, recipients: [{ phone: '+33600000001' }] }),
    idReplacement: true,
    overallRate: options.rate,
    amount: options.calls,
    connections: Math.min(10, Math.max(1, Math.ceil(options.rate / 10))),
    workers: 1,
  });
  const history = await historyOf(ctx, handle.workflowId);
  await drained(ctx, id, 300_000);
  const { rows } = await ctx.pool.query<{ sent: number; p99: number; max: number }>(
    `SELECT count(*)::int AS sent,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
       FROM (SELECT extract(epoch FROM m.sent_at - e.created_at) * 1000 AS ms
               FROM execution_messages m JOIN executions e ON e.id = m.execution_id
              WHERE m.campaign_id = $1 AND m.status = 'sent') x`,
    [id],
  );
  return {
    calls: options.calls,
    offeredPerSecond: options.rate,
    accepted: load['2xx'],
    refusedOrFailed: load.non2xx + load.errors + load.timeouts,
    sent: rows[0].sent,
    acceptToSentMs: { p99: Math.round(rows[0].p99 ?? 0), max: Math.round(rows[0].max ?? 0) },
    maxHistoryEvents: ceiling,
    /** At the moment the last call was answered. */
    historyEvents: { currentRun: history.current, longestRun: history.longestRun },
    runs: history.runs,
    continuedAsNew: history.runs - 1,
  };
}
