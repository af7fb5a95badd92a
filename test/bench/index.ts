/**
 * `npm run bench`: runs the benchmark scenarios (test/bench/scenarios.ts) on the embedded stack (or on
 * TEMPORAL_ADDRESS + DATABASE_URL), prints one table and writes the raw results as JSON.
 *
 * Sizes (environment): BENCH_LIFECYCLE campaigns (default 100) driven BENCH_CONCURRENCY at a time
 * (10), BENCH_EDITS (5000) and
 * BENCH_ACTIVATIONS (100) for the long life, BENCH_SCALE live campaigns (2000), BENCH_PROFILES
 * (100000); BENCH_TRIGGER_RATE calls/s (500) for BENCH_TRIGGER_SECONDS (60), BENCH_TRIGGER20_RATE
 * 20-recipient calls/s (400) for BENCH_TRIGGER20_SECONDS (20); BENCH_REPORT_MESSAGES (1000000) and
 * BENCH_REPORT_EVENTS (2000000) for the reports, BENCH_TRACKING_HITS (20000) offered at
 * BENCH_TRACKING_RATE per second (2000); BENCH_CONSOLE campaigns in the read model for the console's
 * first render (10000);
 * BENCH_ONLY=lifecycle,longLife,scale,delivery,triggers,reports,console to pick; BENCH_OUT for the JSON file;
 * BENCH_TARGET=cluster for the real Temporal server on PostgreSQL instead of the dev server.
 * `BENCH_ONLY=memory` (never in the default list: ≈ 7 minutes here) runs the worker in a process of
 * its own with BENCH_MEMORY campaigns live (10000), BENCH_MEMORY_CACHE as its
 * WORKER_MAX_CACHED_WORKFLOWS (its default when unset), BENCH_MEMORY_CONCURRENCY creations at once (20).
 * `BENCH_ONLY=triggerHistory` (never in the default list: ≈ 83 minutes at its defaults) sends
 * BENCH_TRIGGER_CALLS trigger calls (10000) to one campaign at BENCH_TRIGGER_RATE per second (2 here)
 * and prints its history length and continue-as-new runs against `maxHistoryEvents`
 * (BENCH_TRIGGER_MAX_HISTORY, default the workflow's 2,000).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../toolchain/common';
import { MEMORY_CEILING_MIB, memoryScenario } from './memory';
import { reportsScenario } from './reports';
import { CONSOLE_CEILINGS, consoleScenario } from './console';
import { lifecycleScenario } from './lifecycle';
import { deliveryScenario, longLifeScenario, scaleScenario } from './scenarios';
import { startBenchStack } from './stack';
import { triggerHistoryScenario } from './trigger-history';
import { triggerRateScenario, triggerThroughputScenario } from './triggers';

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  const only = (process.env.BENCH_ONLY ?? 'lifecycle,longLife,scale,delivery,triggers,reports,console').split(
    ',',
  );
  const stack = await startBenchStack();
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    stack: stack.external ? 'external' : process.env.BENCH_TARGET === 'cluster' ? 'cluster' : 'embedded',
  };
  const rows: Array<[string, string, string]> = [];
  const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
  try {
    if (only.includes('lifecycle')) {
      log('lifecycle through the API and through the Temporal client…');
      const r = await lifecycleScenario(
        stack.context,
        size('BENCH_LIFECYCLE', 100),
        size('BENCH_CONCURRENCY', 10),
      );
      results.lifecycle = r;
      for (const [action, s] of Object.entries(r.api.perAction)) {
        const c = r.temporalClientCeiling.perAction[action as keyof typeof r.api.perAction];
        rows.push([
          'lifecycle',
          `${action} p50/p95/p99 ms (API | client)`,
          `${s.p50}/${s.p95}/${s.p99} | ${c.p50}/${c.p95}/${c.p99}`,
        ]);
      }
      rows.push(['lifecycle', 'all actions p99 ms (API)', String(r.api.all.p99)]);
      rows.push([
        'lifecycle',
        'actions/s API | client ceiling | ratio',
        `${r.api.actionsPerSecond} | ${r.temporalClientCeiling.actionsPerSecond} | ${r.throughputRatio}×`,
      ]);
    }
    if (only.includes('longLife')) {
      log('long life…');
      const r = await longLifeScenario(
        stack.context,
        size('BENCH_EDITS', 5000),
        size('BENCH_ACTIVATIONS', 100),
      );
      results.longLife = r;
      rows.push([
        'long life',
        `${r.commands} commands: max history events per run | runs`,
        `${r.maxHistoryEventsPerRun} | ${r.runsSampled}`,
      ]);
      rows.push([
        'long life',
        'first 500 p50/p99 ms | last 500 p50/p99 ms',
        `${r.firstCommands.p50}/${r.firstCommands.p99} | ${r.lastCommands.p50}/${r.lastCommands.p99}`,
      ]);
    }
    if (only.includes('scale')) {
      log('scale…');
      const r = await scaleScenario(stack.context, size('BENCH_SCALE', 2000));
      results.scale = r;
      rows.push([
        'scale',
        `${r.campaigns} live campaigns: create s | per s`,
        `${r.createSeconds} | ${r.campaignsPerSecond}`,
      ]);
      rows.push(['scale', 'process RSS | heap MiB (worker + API + bench)', `${r.rssMiB} | ${r.heapUsedMiB}`]);
      rows.push([
        'scale',
        'GET live+hasDraft p50/p99 ms',
        `${r.listLiveWithDraftMs.p50}/${r.listLiveWithDraftMs.p99}`,
      ]);
      if (r.visibilityCountMs) {
        rows.push([
          'scale',
          'temporal workflow count (visibility) p50 ms',
          `${r.visibilityCountMs.p50} (${r.visibilityCountOutput})`,
        ]);
      }
    }
    if (only.includes('delivery')) {
      log('delivery…');
      const r = await deliveryScenario(stack.context, size('BENCH_PROFILES', 100_000));
      results.delivery = r;
      rows.push([
        'delivery',
        `${r.profiles} profiles over outbox: msg/s | ceiling rows/s | ratio`,
        `${r.messagesPerSecond} | ${r.ceilingBulkInsertRowsPerSecond} | ${r.ratioToCeiling}`,
      ]);
    }
    if (only.includes('triggers')) {
      log('triggers: a fixed rate of 1-recipient calls…');
      const r = await triggerRateScenario(
        stack.context,
        size('BENCH_TRIGGER_RATE', 500),
        size('BENCH_TRIGGER_SECONDS', 60),
      );
      log('triggers: 20-recipient calls next to the bulk-insert ceiling…');
      const t = await triggerThroughputScenario(
        stack.context,
        size('BENCH_TRIGGER20_RATE', 400),
        size('BENCH_TRIGGER20_SECONDS', 20),
      );
      results.triggers = { rate: r, throughput: t };
      rows.push([
        'triggers',
        `${r.offeredPerSecond} calls/s offered for ${r.seconds} s: accepted/s (aim ≥ 500) | refused`,
        `${r.acceptedPerSecond} | ${r.refusedOrFailed}`,
      ]);
      rows.push(['triggers', 'accept p50/p99 ms (aim p99 ≤ 50)', `${r.acceptMs.p50}/${r.acceptMs.p99}`]);
      rows.push([
        'triggers',
        'accept → recorded p50/p99 ms (aim p99 ≤ 2,000)',
        `${r.acceptToRecordedMs.p50}/${r.acceptToRecordedMs.p99}`,
      ]);
      rows.push([
        'triggers',
        'history events: before | after 10,000 calls | at end',
        `${r.historyLength.before} | ${r.historyLength.after10k ?? 'n/a'} | ${r.historyLength.atEnd}`,
      ]);
      rows.push([
        'triggers',
        `20 recipients × ${t.callsPerSecondOffered} calls/s: msg/s (aim ≥ 5,000) | ceiling rows/s | ratio`,
        `${t.messagesPerSecond} | ${t.ceilingBulkInsertRowsPerSecond} | ${t.ratioToCeiling}`,
      ]);
    }
    if (only.includes('triggerHistory')) {
      log('trigger history: a steady stream of calls to one campaign…');
      const max = process.env.BENCH_TRIGGER_MAX_HISTORY;
      const r = await triggerHistoryScenario(stack.context, {
        calls: size('BENCH_TRIGGER_CALLS', 10_000),
        rate: size('BENCH_TRIGGER_RATE', 2),
        ...(max ? { maxHistoryEvents: Number(max) } : {}),
      });
      results.triggerHistory = r;
      rows.push([
        'trigger history',
        `${r.calls} calls at ${r.offeredPerSecond}/s: accepted | refused | sent`,
        `${r.accepted} | ${r.refusedOrFailed} | ${r.sent}`,
      ]);
      rows.push([
        'trigger history',
        'history events: current run | longest run | ceiling (maxHistoryEvents)',
        `${r.historyEvents.currentRun} | ${r.historyEvents.longestRun} | ${r.maxHistoryEvents}`,
      ]);
      rows.push(['trigger history', 'runs | continued as new', `${r.runs} | ${r.continuedAsNew}`]);
      rows.push([
        'trigger history',
        'accept → sent p99/max ms',
        `${r.acceptToSentMs.p99}/${r.acceptToSentMs.max}`,
      ]);
    }
    if (only.includes('reports')) {
      log('reports and tracking (loading messages and events)…');
      const r = await reportsScenario(stack.context, {
        messages: size('BENCH_REPORT_MESSAGES', 1_000_000),
        events: size('BENCH_REPORT_EVENTS', 2_000_000),
        hits: size('BENCH_TRACKING_HITS', 20_000),
        rate: size('BENCH_TRACKING_RATE', 2000),
      });
      results.reports = r;
      const ms = (s: { p50: number; p99: number }) => `${s.p50}/${s.p99}`;
      rows.push([
        'reports',
        `${r.messages} messages + ${r.events} events: loaded in s (messages | events)`,
        `${r.loadSeconds.messages} | ${r.loadSeconds.events}`,
      ]);
      rows.push(['reports', 'live report p50/p99 ms (ceiling p99 50)', ms(r.liveReportMs)]);
      rows.push(['reports', 'global report p50/p99 ms (ceiling p99 50)', ms(r.globalReportMs)]);
      rows.push([
        'reports',
        `open pixel at ${r.tracking.offeredPerSecond}/s offered: hits/s | p50/p99 ms (target ≥ 2000/s, p99 ≤ 20)`,
        `${r.tracking.hits.perSecond} | ${ms(r.tracking.hits)} (${r.tracking.recorded} recorded)`,
      ]);
      rows.push([
        'reports',
        'plain INSERT of the same rows, same rate: rows/s | p50/p99 ms',
        `${r.plainInsertCeiling.perSecond} | ${ms(r.plainInsertCeiling)}`,
      ]);
    }
    if (only.includes('console')) {
      log('console (Chromium)…');
      const r = await consoleScenario(stack.context, size('BENCH_CONSOLE', 10_000));
      results.console = r;
      rows.push([
        'console',
        `JS bundle KiB gzipped (raw) | ceiling`,
        `${r.bundleGzippedKiB} (${r.bundleKiB}) | ${CONSOLE_CEILINGS.bundleKiB}`,
      ]);
      rows.push([
        'console',
        `list first render, ${r.campaignsInserted} campaigns: p50/max ms | ceiling`,
        `${r.firstRenderMs.p50}/${r.firstRenderMs.max} | ${CONSOLE_CEILINGS.firstRenderMs}`,
      ]);
    }
    if (only.includes('memory')) {
      log('memory: the worker in a process of its own…');
      const cache = process.env.BENCH_MEMORY_CACHE;
      const r = await memoryScenario(stack.context, {
        count: size('BENCH_MEMORY', 10_000),
        temporalAddress: stack.temporalAddress,
        databaseUrl: stack.databaseUrl,
        ...(cache ? { cache: Number(cache) } : {}),
        concurrency: size('BENCH_MEMORY_CONCURRENCY', 20),
        log,
      });
      results.memory = r;
      const m = r.workerRssMiB;
      const ms = (s: { p50: number; p99: number }) => `${s.p50}/${s.p99}`;
      rows.push([
        'memory',
        `${r.campaigns} live campaigns, cache ${r.cacheSize}: created s | per s`,
        `${r.createSeconds} | ${r.campaignsPerSecond}`,
      ]);
      rows.push([
        'memory',
        `worker RSS MiB: idle | peak under load | settled | ceiling`,
        `${m.idleBeforeLoad} | ${m.peakDuringLoad} | ${m.settled} | ${MEMORY_CEILING_MIB}`,
      ]);
      rows.push([
        'memory',
        'worker RSS MiB: start-up peak | high-water mark',
        `${m.startupPeak} | ${m.highWaterMark}`,
      ]);
      rows.push([
        'memory',
        `command p50/p99 ms: ${r.firstCreatedOutOfCache ? 'evicted' : 'NOT evicted'} (first created) | cached (n=${r.cachedCommandMs.n} each)`,
        `${ms(r.evictedCommandMs)} | ${ms(r.cachedCommandMs)}`,
      ]);
    }
  } finally {
    await stack.stop();
  }
  const width = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(`\n${rows.map((r) => r.map((c, i) => c.padEnd(width[i])).join('  ')).join('\n')}\n`);
  const out = process.env.BENCH_OUT ?? path.join(repoRoot, '.data', 'bench', `results-${Date.now()}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2));
  process.stdout.write(`\nraw results: ${out}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
