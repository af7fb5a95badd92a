/**
 * The production worker (`worker/main.ts`) as a separate process, for tests that kill it, stop it
 * gracefully or restart the services under it. Its output is kept (not printed) so a failing test
 * can show what the worker said.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerProcess {
  pid: number;
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  /** Whether the process is still running. */
  running(): boolean;
  /**
   * Sends `signal` (SIGTERM: the graceful shutdown `runtime/shutdown.ts` handles; SIGKILL: a crash)
   * and waits at most `ms` for the exit, then SIGKILLs. Resolves with how it ended.
   */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<Exit>;
  /** The last lines the process wrote on stdout and stderr. */
  output(): string;
}

const ROOT = path.join(__dirname, '..', '..');
const KEEP_LINES = 200;
const started = new Set<WorkerProcess>();

/**
 * Starts `worker/main.ts` (`node --import tsx`, so the spawned process is the worker itself and a
 * signal reaches it, not a tsx wrapper) against `temporalAddress` and `databaseUrl`, polling
 * `taskQueue`. Webhook targets on loopback are allowed (`WEBHOOK_ALLOW_PRIVATE=true`).
 */
export function startWorkerProcess(options: {
  /** The entry point (default `worker/main.ts`; `toolchain/start.ts` is `npm start`). */
  entry?: string;
  temporalAddress: string;
  databaseUrl: string;
  taskQueue: string;
  env?: Record<string, string>;
}): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry ?? 'worker/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      DATABASE_URL: options.databaseUrl,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_SECRET: 'fault-suite-secret',
      TRACKING_KEY: 'fault-suite-tracking-key',
      LOG_LEVEL: 'info',
      TEMPORAL_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const worker: WorkerProcess = {
    pid: child.pid!,
    exited,
    running,
    async stop(signal = 'SIGTERM', ms = 30_000) {
      if (running()) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), ms);
        await exited;
        clearTimeout(timer);
      }
      started.delete(worker);
      return exited;
    },
    output: () => lines.join('\n'),
  };
  started.add(worker);
  void exited.then(() => started.delete(worker));
  return worker;
}

/** SIGKILLs every worker process this file started that still runs (for `afterAll`). */
export async function killWorkerProcesses(): Promise<void> {
  await Promise.all([...started].map((worker) => worker.stop('SIGKILL')));
}
