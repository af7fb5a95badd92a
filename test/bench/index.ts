/**
 * `npm run bench`: runs the benchmark scenarios (test/bench/scenarios.ts) on the embedded stack (or on
 * TEMPORAL_ADDRESS + DATABASE_URL), prints one table and writes the raw results as JSON.
 *
 * Sizes (environment): BENCH_LIFECYCLE campaigns (default 100) driven BENCH_CONCURRENCY at a time
 * (10), BENCH_EDITS (5000) and
 * BENCH_ACTIVATIONS (100) for the long life, BENCH_SCALE live campaigns (2000), BENCH_PROFILES
 * (100000), BENCH_CONSOLE campaigns in the read model for the console's first render (10000);
 * BENCH_ONLY=lifecycle,longLife,scale,delivery,console to pick; BENCH_OUT for the JSON file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../toolchain/common';
import { CONSOLE_CEILINGS, consoleScenario } from './console';
import { deliveryScenario, lifecycleScenario, longLifeScenario, scaleScenario } from './scenarios';
import { startBenchStack } from './stack';

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  const only = (process.env.BENCH_ONLY ?? 'lifecycle,longLife,scale,delivery,console').split(',');
  const stack = await startBenchStack();
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    stack: stack.external ? 'external' : 'embedded',
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
