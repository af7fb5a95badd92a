/**
 * Benchmark scenarios. Each takes a running stack and a size, and returns figures (never asserts on
 * time). `npm run bench` runs them all on the embedded stack; test/bench-smoke.test.ts runs them tiny.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Pool } from 'pg';
import type { PrismaClient } from '../../prisma/client';
import type { campaignWorkflow } from '../../workflows/campaign';
import {
  activateUpdate,
  campaignWorkflowId,
  editUpdate,
  modifyUpdate,
  projectedUpdate,
  stateQuery,
} from '../../workflows/messages';
import type { CampaignContent, CreateCampaign } from '../../domain/types';

export interface BenchContext {
  client: Client;
  prisma: PrismaClient;
  pool: Pool;
  taskQueue: string;
  /** Base URL of a running API, and an admin key for it. */
  apiUrl: string;
  apiKey: string;
  /** A Temporal CLI binary and the server address, for visibility timings (optional). */
  temporalCli?: { path: string; address: string };
}

export interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  perSecond: number;
}

export const CONTENT: CampaignContent = {
  sender: 'news@shop.example',
  subject: 'Hi {{firstName}}',
  body: 'Hello {{profile.firstName}}',
};

/** Starts a campaign workflow straight through the Temporal client. */
export function startCampaign(
  ctx: BenchContext,
  id: string,
  create: Omit<CreateCampaign, 'campaignId' | 'type' | 'channel' | 'content'> & Partial<CreateCampaign>,
) {
  return ctx.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
    workflowId: campaignWorkflowId(id),
    taskQueue: ctx.taskQueue,
    args: [{ create: { type: 'scheduled', channel: 'email', content: CONTENT, ...create, campaignId: id } }],
  });
}

export function stats(samples: number[], seconds: number): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length
      ? Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1))
      : 0;
  return {
    n: samples.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    perSecond: Number((samples.length / seconds).toFixed(1)),
  };
}

export async function timed<T>(samples: number[], call: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const result = await call();
  samples.push(performance.now() - t);
  return result;
}

/** Runs `count` jobs with at most `concurrency` at once. */
export async function pool<T>(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await job(i);
      }
    }),
  );
  return results;
}

/** A fetch of the API with the bench's key; the JSON answer (or `{ id: '' }` for a 204). */
export function http(ctx: BenchContext) {
  return async (method: string, path: string, body?: object): Promise<{ id: string }> => {
    const res = await fetch(`${ctx.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? { id: '' } : ((await res.json()) as { id: string });
  };
}

/**
 * 2. Long life: one campaign receiving `edits` edits and `activations` activations (each a modify,
 * an edit and an activate); history length per run, early against late command latency.
 */
export async function longLifeScenario(ctx: BenchContext, edits: number, activations: number) {
  const id = randomUUID();
  const handle: WorkflowHandle<typeof campaignWorkflow> = await startCampaign(ctx, id, {
    name: 'long life',
    requestId: 'c',
    actor: 'bench',
  });
  await handle.executeUpdate(projectedUpdate);
  const latencies: number[] = [];
  const runs = new Set<string>();
  let maxHistory = 0;
  let seq = 0;
  const meta = () => ({ requestId: `r-${++seq}`, actor: 'bench' });
  const every = Math.max(1, Math.floor(edits / Math.max(1, activations)));
  let activated = 0;
  const started = performance.now();
  for (let i = 1; i <= edits; i++) {
    await timed(latencies, () =>
      handle.executeUpdate(editUpdate, { args: [{ ...meta(), description: `edit ${i}` }] }),
    );
    if (i % every === 0 && activated < activations) {
      await timed(latencies, () => handle.executeUpdate(activateUpdate, { args: [meta()] }));
      await timed(latencies, () => handle.executeUpdate(modifyUpdate, { args: [meta()] }));
      activated++;
    }
    if (i % 100 === 0 || i === edits) {
      const d = await handle.describe();
      runs.add(d.runId);
      maxHistory = Math.max(maxHistory, d.historyLength);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const state = await handle.query(stateQuery);
  const window = Math.min(500, Math.floor(latencies.length / 2));
  const first = stats(latencies.slice(0, window), seconds);
  const last = stats(latencies.slice(-window), seconds);
  return {
    edits,
    activations: activated,
    commands: latencies.length,
    seconds: Number(seconds.toFixed(1)),
    maxHistoryEventsPerRun: maxHistory,
    runsSampled: runs.size,
    liveVersion: state.live?.number ?? null,
    firstCommands: first,
    lastCommands: last,
    lateOverEarlyP50: Number((last.p50 / first.p50).toFixed(2)),
  };
}

/**
 * 3. Scale: `count` live campaigns (a tenth with a draft); creation time, process memory, and the
 * draft-indicator list through the API and through Temporal visibility.
 */
export async function scaleScenario(ctx: BenchContext, count: number, concurrency = 20) {
  const call = http(ctx);
  const tag = `scale-${randomUUID().slice(0, 8)}`;
  const started = performance.now();
  await pool(count, concurrency, async (i) => {
    const id = randomUUID();
    const meta = (a: string) => ({ requestId: `${a}-${id}`, actor: 'bench' });
    const handle = await startCampaign(ctx, id, {
      name: `scale ${i}`,
      tags: [tag],
      ...meta('c'),
    });
    await handle.executeUpdate(activateUpdate, { args: [meta('a')] });
    if (i % 10 === 0) await handle.executeUpdate(modifyUpdate, { args: [meta('m')] });
  });
  const createSeconds = (performance.now() - started) / 1000;
  const listSamples: number[] = [];
  const listStart = performance.now();
  for (let i = 0; i < 50; i++) {
    await timed(listSamples, () =>
      call('GET', `/v1/campaigns?status=live&hasDraft=true&tag=${tag}&limit=50`),
    );
  }
  const list = stats(listSamples, (performance.now() - listStart) / 1000);
  let visibility: Stats | undefined;
  let visibilityCount: string | undefined;
  if (ctx.temporalCli) {
    const samples: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      visibilityCount = await timed(samples, () =>
        runCli(ctx.temporalCli!, [
          'workflow',
          'count',
          '--query',
          `CampaignStatus="live" AND CampaignHasDraft=true AND ExecutionStatus="Running"`,
        ]),
      );
    }
    visibility = stats(samples, (performance.now() - t0) / 1000);
  }
  return {
    campaigns: count,
    createSeconds: Number(createSeconds.toFixed(1)),
    campaignsPerSecond: Number((count / createSeconds).toFixed(1)),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    listLiveWithDraftMs: list,
    visibilityCountMs: visibility,
    visibilityCountOutput: visibilityCount?.trim(),
  };
}

function runCli(cli: { path: string; address: string }, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cli.path, [...args, '--address', cli.address], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`temporal ${args.join(' ')} exited ${code}`)),
    );
  });
}

/**
 * 4. Delivery: one run to `profiles` profiles over the outbox, next to the ceiling measured in the
 * same run on the same database: a plain bulk INSERT of the same rows into a copy of `messages`.
 */
export async function deliveryScenario(ctx: BenchContext, profiles: number) {
  const { pool: db } = ctx;
  const prefix = randomUUID().slice(0, 8);
  const ids = Array.from({ length: profiles }, (_, i) => `${prefix}-${String(i).padStart(7, '0')}`);
  for (let i = 0; i < profiles; i += 10_000) {
    await db.query(
      `INSERT INTO profiles (id, email, attributes)
       SELECT id, id || '@example.com', jsonb_build_object('firstName', 'Ada', 'tier', 'gold') FROM unnest($1::text[]) AS id`,
      [ids.slice(i, i + 10_000)],
    );
  }
  const audienceId = randomUUID();
  await db.query(`INSERT INTO audiences (id, name) VALUES ($1, $2)`, [audienceId, `bench-${prefix}`]);
  await db.query(`INSERT INTO audience_members SELECT $1, id FROM profiles WHERE id LIKE $2`, [
    audienceId,
    `${prefix}-%`,
  ]);

  // The ceiling: the same rows, rendered, bulk-inserted (1,000 a statement) into a copy of the table.
  const ceilingTable = `messages_ceiling_${prefix}`;
  await db.query(`CREATE TABLE ${ceilingTable} (LIKE messages INCLUDING ALL)`);
  const ceilingStart = performance.now();
  for (let i = 0; i < profiles; i += 1000) {
    const slice = ids.slice(i, i + 1000);
    await db.query(
      `INSERT INTO ${ceilingTable} (campaign_id, run_number, profile_id, version, status, rendered, sent_at)
       SELECT $1, 1, id, 1, 'sent', r, now() FROM unnest($2::text[], $3::jsonb[]) AS x(id, r)`,
      [randomUUID(), slice, slice.map(() => JSON.stringify({ subject: 'Hi Ada', body: 'Hello Ada' }))],
    );
  }
  const ceilingSeconds = (performance.now() - ceilingStart) / 1000;
  await db.query(`DROP TABLE ${ceilingTable}`);

  const id = randomUUID();
  const handle = await startCampaign(ctx, id, {
    name: 'delivery bench',
    audience: { audienceId },
    requestId: 'c',
    actor: 'bench',
  });
  await handle.executeUpdate(projectedUpdate);
  const runStart = performance.now();
  await handle.executeUpdate(activateUpdate, { args: [{ requestId: 'a', actor: 'bench' }] });
  while ((await handle.query(stateQuery)).status !== 'completed') await new Promise((r) => setTimeout(r, 25));
  const runSeconds = (performance.now() - runStart) / 1000;
  const sent = Number(
    (await db.query(`SELECT count(*) AS n FROM messages WHERE campaign_id = $1 AND status = 'sent'`, [id]))
      .rows[0].n,
  );
  const perSecond = sent / runSeconds;
  const ceiling = profiles / ceilingSeconds;
  return {
    profiles,
    messagesSent: sent,
    secondsActivateToCompleted: Number(runSeconds.toFixed(2)),
    messagesPerSecond: Math.round(perSecond),
    ceilingBulkInsertRowsPerSecond: Math.round(ceiling),
    ratioToCeiling: Number((perSecond / ceiling).toFixed(2)),
  };
}
