/**
 * `npm run bench:profile`: CPU per lifecycle action. Runs the lifecycle scenario twice on the bench
 * stack (test/bench/stack.ts), straight through the Temporal client, then through the API, and for
 * each pass measures the CPU time spent per action by this process (worker + API + load generator,
 * `process.cpuUsage`), by the Temporal dev server and by PostgreSQL (their processes' /proc stat).
 * Started under `node --cpu-prof` (as the npm script does), it writes each pass's time window next to
 * the profiles, for test/bench/profile-summary.ts to split them by pass and owner.
 *
 * Sizes: BENCH_LIFECYCLE campaigns (100) BENCH_CONCURRENCY at a time (10); BENCH_WARMUP campaigns
 * through each path first, not measured (20); BENCH_PROFILE_DIR for the windows file (.data/profile).
 */
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { writeWorkflowBundle } from '../../toolchain/workflow-bundle';
import { repoRoot } from '../../toolchain/common';
import { lifecycleRun } from './lifecycle';
import { startBenchStack } from './stack';

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Each process's parent pid and CPU ms (user + system, plus its reaped children's), by pid. */
function processes(): Map<number, { ppid: number; comm: string; cpuMs: number }> {
  const all = new Map<number, { ppid: number; comm: string; cpuMs: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      all.set(Number(entry), { ppid: Number(f[1]), comm, cpuMs: (ticks * 1000) / TICKS_PER_SECOND });
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** CPU ms so far of this process's descendants, by kind: the Temporal server, PostgreSQL, others. */
function childCpu(): Record<'temporal' | 'postgres' | 'other', number> {
  const all = processes();
  const totals = { temporal: 0, postgres: 0, other: 0 };
  const walk = (pid: number, kind?: string) => {
    for (const [child, p] of all) {
      if (p.ppid !== pid) continue;
      const k =
        kind ?? (/temporal/i.test(p.comm) ? 'temporal' : /postgres/i.test(p.comm) ? 'postgres' : undefined);
      totals[(k ?? 'other') as keyof typeof totals] += p.cpuMs;
      walk(child, k);
    }
  };
  walk(process.pid);
  return totals;
}

function cpuNow() {
  const own = process.cpuUsage();
  return { self: (own.user + own.system) / 1000, ...childCpu(), wall: performance.now() };
}

async function main(): Promise<void> {
  const campaigns = size('BENCH_LIFECYCLE', 100);
  const concurrency = size('BENCH_CONCURRENCY', 10);
  const warmup = size('BENCH_WARMUP', 20);
  const dir = process.env.BENCH_PROFILE_DIR ?? path.join(repoRoot, '.data', 'profile');
  mkdirSync(dir, { recursive: true });
  const log = (message: string) => process.stderr.write(`[profile] ${message}\n`);
  // The workflow bundle, kept beside the profiles: its module markers name the sandbox's frames.
  const code = await writeWorkflowBundle(path.join(dir, 'workflow-bundle.js'));
  const stack = await startBenchStack(`bench-${Date.now()}`, { code });
  const windows: Array<{ pass: string; startUs: number; endUs: number; actions: number }> = [];
  const rows: string[] = [];
  let history = '';
  try {
    for (const via of ['temporal', 'http'] as const) {
      log(`${via}: warm-up (${warmup} campaigns)…`);
      await lifecycleRun(stack.context, via, warmup, concurrency);
      log(`${via}: ${campaigns} campaigns, ${concurrency} at a time…`);
      const before = cpuNow();
      const startUs = Number(process.hrtime.bigint() / 1000n);
      const r = await lifecycleRun(stack.context, via, campaigns, concurrency);
      const endUs = Number(process.hrtime.bigint() / 1000n);
      const after = cpuNow();
      windows.push({ pass: via, startUs, endUs, actions: r.all.n });
      const actions = r.all.n;
      const per = (k: 'self' | 'temporal' | 'postgres' | 'other') =>
        ((after[k] - before[k]) / actions).toFixed(2);
      const total = (['self', 'temporal', 'postgres', 'other'] as const)
        .map((k) => (after[k] - before[k]) / actions)
        .reduce((a, b) => a + b, 0);
      rows.push(
        `${via === 'http' ? 'API   ' : 'client'}  ${r.actionsPerSecond} actions/s, p99 ${r.all.p99} ms; ` +
          `CPU ms/action: node ${per('self')} | temporal ${per('temporal')} | postgres ${per('postgres')} | ` +
          `other ${per('other')} | total ${total.toFixed(2)} (of ${((after.wall - before.wall) / actions).toFixed(2)} wall ms × 2 cores)`,
      );
    }
    // What the server stores for one campaign's six actions, by event type.
    for await (const w of stack.context.client.workflow.list({ query: 'WorkflowType="campaignWorkflow"' })) {
      const events =
        (await stack.context.client.workflow.getHandle(w.workflowId).fetchHistory()).events ?? [];
      const types = new Map<string, number>();
      for (const e of events) {
        const type = temporal.api.enums.v1.EventType[e.eventType ?? 0].replace(/^EVENT_TYPE_/, '');
        types.set(type, (types.get(type) ?? 0) + 1);
      }
      history = `${events.length} events: ${[...types].map(([t, n]) => `${t} ${n}`).join(', ')}`;
      break;
    }
  } finally {
    await stack.stop();
  }
  writeFileSync(path.join(dir, 'windows.json'), JSON.stringify(windows, null, 2));
  rows.push(`history of one campaign (6 actions): ${history}`);
  process.stdout.write(`\n${rows.join('\n')}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
