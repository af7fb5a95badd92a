/**
 * Several workers and several API processes on one machine, the way `npm run start:cluster` runs
 * them: the API processes share one listening port through Node's `cluster` module (the primary
 * accepts connections and hands them out round-robin), the workers are plain child processes polling
 * the same task queue. A process that dies unexpectedly is started again (unless `restart: false`);
 * `rollingRestart()` replaces each process in turn, starting its successor before stopping it, so
 * capacity never drops to zero. Processes run the compiled output with plain `node` (`dist/`, built
 * by `npm run build`; built here first when missing or stale), as production runs them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { openSync, readFileSync } from 'node:fs';
import { AggregatorRegistry } from 'prom-client';
import { BUILT, ensureBuilt } from './build';
import { say } from './common';

export type Role = 'worker' | 'api';

export interface ProcessClusterOptions {
  workers: number;
  apis: number;
  /** Environment of every process (TEMPORAL_ADDRESS, DATABASE_URL, PORT, …). */
  env: NodeJS.ProcessEnv;
  /** Append each process's output to this file; inherit our stdout/stderr when omitted. */
  logFile?: string;
  /** Start a process again when it dies unexpectedly (default true). */
  restart?: boolean;
}

export interface Member {
  role: Role;
  pid: number;
  /** Settles when the process has exited. */
  exited: Promise<void>;
}

export interface ProcessCluster {
  /** The processes running now, workers first. */
  members(): Member[];
  /** Replaces every process of `role`, one at a time (successor up before the old one stops). */
  rollingRestart(role: Role): Promise<void>;
  /**
   * SIGTERM to every process (each drains gracefully, within its own SHUTDOWN_TIMEOUT), then waits
   * for all to exit; one still running after `boundMs` (default 20 s) is SIGKILLed, so none outlives us.
   */
  stop(boundMs?: number): Promise<void>;
  /** The API processes' Prometheus metrics, summed over the processes (prom-client's aggregation). */
  apiMetrics(): Promise<string>;
}

const ENTRY: Record<Role, string> = { worker: BUILT.worker, api: BUILT.api };
/** Plain node: none of the flags (a TypeScript loader) the primary may run under. */
const EXEC_ARGV: string[] = [];
/** How long a process may take to be ready (workers bundle the workflow code unless given a bundle). */
const READY_TIMEOUT_MS = 120_000;

/** How long `stop()` lets the processes drain before it kills them (inside `npm run start:cluster`'s bound). */
const STOP_BOUND_MS = 20_000;

interface Handle extends Member {
  child: ChildProcess;
  /** Set before we stop it on purpose, so its exit is not taken for a crash. */
  retiring: boolean;
}

export async function startProcessCluster(options: ProcessClusterOptions): Promise<ProcessCluster> {
  await ensureBuilt();
  const output = options.logFile ? openSync(options.logFile, 'a') : 'inherit';
  const running = new Set<Handle>();
  let stopping = false;

  function launch(role: Role): { handle: Handle; ready: Promise<void> } {
    let child: ChildProcess;
    let ready: Promise<void>;
    if (role === 'api') {
      cluster.setupPrimary({
        exec: ENTRY.api,
        args: [],
        execArgv: EXEC_ARGV,
        stdio: ['ignore', output, output, 'ipc'],
      });
      const worker: ClusterWorker = cluster.fork({ ...options.env, CAMPAIGN_QUIET_KEY: '1' });
      child = worker.process;
      ready = new Promise((resolve) => worker.once('listening', () => resolve()));
    } else {
      child = fork(ENTRY.worker, [], {
        env: options.env,
        execArgv: EXEC_ARGV,
        stdio: ['ignore', output, output, 'ipc'],
      });
      // worker/main.ts says 'ready' over IPC once it polls (runtime/shutdown.ts).
      ready = new Promise((resolve) => child.on('message', (m) => m === 'ready' && resolve()));
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const handle: Handle = { role, pid: child.pid!, exited, child, retiring: false };
    running.add(handle);
    void exited.then(() => {
      running.delete(handle);
      if (stopping || handle.retiring || options.restart === false) return;
      say(
        `${role} process ${handle.pid} exited unexpectedly (${child.signalCode ?? child.exitCode}); starting another`,
      );
      setTimeout(() => !stopping && launch(role), 1_000);
    });
    const failed = exited.then(() => {
      const said = options.logFile ? `; its output ends with: ${lastLines(options.logFile)}` : '';
      throw new Error(`the ${role} process ${handle.pid} exited before it was ready${said}`);
    });
    return { handle, ready: withTimeout(Promise.race([ready, failed]), `the ${role} process ${handle.pid}`) };
  }

  async function retire(handle: Handle): Promise<void> {
    handle.retiring = true;
    handle.child.kill('SIGTERM');
    await handle.exited;
  }

  const aggregator = new AggregatorRegistry();
  const cluster_ = {
    apiMetrics: () => aggregator.clusterMetrics(),
    members: () => [...running].sort((a, b) => (a.role === b.role ? 0 : a.role === 'worker' ? -1 : 1)),
    async rollingRestart(role: Role) {
      for (const old of [...running].filter((h) => h.role === role)) {
        await launch(role).ready;
        await retire(old);
      }
    },
    async stop(boundMs = STOP_BOUND_MS) {
      stopping = true;
      const handles = [...running];
      const kill = setTimeout(() => {
        for (const h of handles)
          if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGKILL');
      }, boundMs);
      await Promise.all(handles.map(retire));
      clearTimeout(kill);
    },
  };
  try {
    const starting = [
      ...Array.from({ length: options.workers }, () => launch('worker')),
      ...Array.from({ length: options.apis }, () => launch('api')),
    ];
    await Promise.all(starting.map((s) => s.ready));
  } catch (error) {
    await cluster_.stop();
    throw error;
  }
  return cluster_;
}

function withTimeout(promise: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} was not ready within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function lastLines(file: string): string {
  return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ').slice(-1_500);
}
