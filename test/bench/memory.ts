/**
 * Memory at scale: the production worker (`worker/main.ts`) in a process of its own, so its resident
 * memory is measured alone (VmRSS in /proc, sampled); `count` campaigns created and activated (live)
 * through the Temporal client; then the command latency of campaigns long out of the sticky cache
 * (the first created) next to that of a cached one, both through the API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { campaignWorkflow } from '../../workflows/campaign';
import { activateUpdate, campaignWorkflowId } from '../../workflows/messages';
import type { CampaignContent } from '../../domain/types';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../../worker/worker';
import { startWorkerProcess, type WorkerProcess } from '../harness/processes';
import { writeWorkflowBundle } from '../../toolchain/workflow-bundle';
import { stats, type BenchContext } from './scenarios';

/** The ceiling the worker's resident memory is judged against, in MiB. */
export const MEMORY_CEILING_MIB = 1024;

export interface MemoryOptions {
  count: number;
  temporalAddress: string;
  databaseUrl: string;
  /** WORKER_MAX_CACHED_WORKFLOWS for the worker process (its default when undefined). */
  cache?: number;
  /** Campaigns created at once (default 20). */
  concurrency?: number;
  /** How long to watch the idle worker after the last activation (default 30 s). */
  settleSeconds?: number;
  /** Commands timed on evicted campaigns and on the cached one (default 20 each). */
  samples?: number;
  log?: (message: string) => void;
}

const CONTENT: CampaignContent = { sender: 'news@shop.example', subject: 'Hi', body: 'Hello' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (kib: number) => Math.round(kib / 1024);

/** VmRSS and VmHWM (peak) of a process, in KiB; zeros once it has gone. */
function residentKiB(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** Samples a process's RSS every `ms` until stopped. */
function sampler(pid: number, ms = 250) {
  const samples: Array<{ t: number; kib: number }> = [];
  const take = () => samples.push({ t: performance.now(), kib: residentKiB(pid).rss });
  take();
  const timer = setInterval(take, ms);
  return {
    samples,
    /** Highest sample since `from` (a performance.now() time). */
    peakSince: (from: number) => Math.max(0, ...samples.filter((s) => s.t >= from).map((s) => s.kib)),
    latest: () => samples[samples.length - 1]?.kib ?? 0,
    stop: () => clearInterval(timer),
  };
}

async function waitForPolling(worker: WorkerProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (worker.output().includes('worker polling')) return;
    if (!worker.running()) throw new Error(`worker process exited:\n${worker.output()}`);
    await sleep(100);
  }
  throw new Error(`worker process not polling after 120 s:\n${worker.output()}`);
}

export async function memoryScenario(ctx: BenchContext, options: MemoryOptions) {
  const { count, concurrency = 20, settleSeconds = 30, samples = 20, log = () => undefined } = options;
  const cacheSize = options.cache ?? DEFAULT_MAX_CACHED_WORKFLOWS;
  const taskQueue = `memory-${randomUUID().slice(0, 8)}`;
  // As in production (docs/deployment.md): the workflow code bundled ahead, not in the worker.
  const bundleDir = mkdtempSync(path.join(tmpdir(), 'bench-memory-'));
  const bundlePath = path.join(bundleDir, 'workflow-bundle.js');
  await writeWorkflowBundle(bundlePath);
  const worker = startWorkerProcess({
    temporalAddress: options.temporalAddress,
    databaseUrl: options.databaseUrl,
    taskQueue,
    env: {
      WEBHOOK_SECRET: 'bench-webhook-secret',
      WORKFLOW_BUNDLE: bundlePath,
      ...(options.cache === undefined ? {} : { WORKER_MAX_CACHED_WORKFLOWS: String(options.cache) }),
    },
  });
  const rss = sampler(worker.pid);
  try {
    await waitForPolling(worker);
    await sleep(2000);
    const idleKiB = rss.latest();
    const startupPeakKiB = rss.peakSince(0);

    // Create and activate: one update-with-start per campaign (start the workflow, activate it).
    const ids: string[] = new Array(count);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count) {
          const i = next++;
          const id = randomUUID();
          ids[i] = id;
          const meta = (a: string) => ({ requestId: `${a}-${id}`, actor: 'bench' });
          await ctx.client.workflow.executeUpdateWithStart(activateUpdate, {
            args: [meta('a')],
            startWorkflowOperation: new WithStartWorkflowOperation<typeof campaignWorkflow>(
              'campaignWorkflow',
              {
                workflowId: campaignWorkflowId(id),
                taskQueue,
                workflowIdConflictPolicy: 'FAIL',
                args: [
                  {
                    create: {
                      type: 'scheduled',
                      channel: 'email',
                      content: CONTENT,
                      name: `memory ${i}`,
                      campaignId: id,
                      ...meta('c'),
                    },
                  },
                ],
              },
            ),
          });
          if ((i + 1) % 1000 === 0) {
            const s = ((performance.now() - started) / 1000).toFixed(0);
            log(`memory: ${i + 1} live after ${s} s, worker RSS ${mib(rss.latest())} MiB`);
          }
        }
      }),
    );
    const createSeconds = (performance.now() - started) / 1000;
    const loadPeakKiB = rss.peakSince(started);

    // Settle: the worker idle, every campaign live.
    const settleFrom = performance.now();
    await sleep(settleSeconds * 1000);
    const settled = rss.samples.filter((s) => s.t >= performance.now() - 5000).map((s) => s.kib);
    const settledKiB = Math.round(settled.reduce((a, b) => a + b, 0) / Math.max(1, settled.length));
    const settlePeakKiB = rss.peakSince(settleFrom);

    // Latency: a command through the API (PATCH the description: a workflow update) to a campaign
    // out of the cache (the first ones created, each once: afterwards it is cached again),
    // interleaved with one to the campaign created last (cached).
    const edit = async (id: string, description: string) => {
      const t = performance.now();
      const res = await fetch(`${ctx.apiUrl}/v1/campaigns/${id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ description }),
      });
      if (res.status !== 200) throw new Error(`PATCH campaign ${id}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      return performance.now() - t;
    };
    const cachedId = ids[count - 1];
    await edit(cachedId, 'warm');
    const evictedMs: number[] = [];
    const cachedMs: number[] = [];
    const latencyFrom = performance.now();
    for (let i = 0; i < Math.min(samples, count - 1); i++) {
      evictedMs.push(await edit(ids[i], `evicted ${i}`));
      cachedMs.push(await edit(cachedId, `cached ${i}`));
    }
    const latencySeconds = (performance.now() - latencyFrom) / 1000;
    const finalKiB = residentKiB(worker.pid);
    return {
      campaigns: count,
      cacheSize,
      /** Whether the first campaigns created were out of the cache when commanded (LRU). */
      firstCreatedOutOfCache: count - samples > cacheSize,
      concurrency,
      createSeconds: Number(createSeconds.toFixed(1)),
      campaignsPerSecond: Number((count / createSeconds).toFixed(1)),
      ceilingMiB: MEMORY_CEILING_MIB,
      workerRssMiB: {
        idleBeforeLoad: mib(idleKiB),
        startupPeak: mib(startupPeakKiB),
        peakDuringLoad: mib(loadPeakKiB),
        settled: mib(settledKiB),
        peakWhileSettling: mib(settlePeakKiB),
        afterCommands: mib(finalKiB.rss),
        highWaterMark: mib(finalKiB.hwm),
      },
      evictedCommandMs: stats(evictedMs, latencySeconds),
      cachedCommandMs: stats(cachedMs, latencySeconds),
      /** Worker RSS every 5 s from its start, MiB. */
      rssSeriesMiB: rss.samples.filter((_, i) => i % 20 === 0).map((s) => mib(s.kib)),
    };
  } finally {
    rss.stop();
    rmSync(bundleDir, { recursive: true, force: true });
    const exit = await worker.stop('SIGTERM', 30_000);
    if (exit.code !== 0) log(`memory: worker exited ${JSON.stringify(exit)}:\n${worker.output()}`);
  }
}
