/**
 * A stop is bounded whatever activities are doing (issue 19, item 1): a worker process
 * (`worker/main.ts`), `npm start` (`toolchain/start.ts`: worker and API in one process) and the
 * processes of `npm run start:cluster` (`toolchain/process-cluster.ts`), each with a
 * trigger dispatcher whose batch is stuck for good (its execution row locked by the test, so it can
 * never record its outcomes), end within 30 s of SIGTERM / SIGINT / `stop()` (SHUTDOWN_TIMEOUT, 25 s
 * by default; the cluster kills a process still running after 20 s).
 */
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureBuilt } from '../toolchain/build';
import { startProcessCluster } from '../toolchain/process-cluster';
import { freePort } from '../toolchain/postgres';
import { faultSuite } from './harness/fault-suite';
import { createAudience, until } from './harness/campaigns';
import { startWorkerProcess, type WorkerProcess } from './harness/processes';
import { testDatabaseUrl, testTemporalAddress } from './harness/stack';
import {
  liveCampaign,
  lockExecution,
  receiver,
  trigger,
  triggerEnv,
  workerProcess,
  type TriggerEnv,
} from './harness/trigger-env';

/** What the issue asks of a stop: within 30 s. */
const SHUTDOWN_BOUND_MS = 30_000;

describe('a stop is bounded', () => {
  const suite = faultSuite();
  const { cleanups } = suite;

  // start:cluster's processes run the build (dist/): built here rather than inside a test's time.
  beforeAll(() => ensureBuilt(), 300_000);

  /** Triggers 40 recipients against a slow receiver and locks the execution: the batch is stuck. */
  async function stuckBatch(e: TriggerEnv, output: () => string) {
    const hook = await receiver(cleanups, { delayMs: 500 });
    const campaignId = await liveCampaign(e, hook);
    const { ids } = await createAudience(e.pool, 40);
    const answer = await trigger(e, campaignId, ids);
    expect(answer.status).toBe(202);
    const lock = await lockExecution(e, cleanups, answer.body.executionId);
    await until('the batch sent and is stuck on the lock', () => hook.delivered.size >= 40, 60_000, output);
    return lock;
  }

  /** Appends a stop's figures to `FAULT_REPORT` when set. */
  function report(figures: Record<string, unknown>): void {
    const file = process.env.FAULT_REPORT;
    if (file) appendFileSync(file, `${JSON.stringify(figures)}\n`);
  }

  /**
   * Sends `signal`, waits (up to 60 s, then SIGKILL), and says how it ended and how long it took
   * (appended to `FAULT_REPORT` when set).
   */
  async function timedStop(p: WorkerProcess, signal: NodeJS.Signals, what: string) {
    const t = Date.now();
    const exit = await p.stop(signal, 60_000);
    const took = Date.now() - t;
    report({ scenario: what, signal, exit, took });
    return { exit, took };
  }

  it('a worker process whose dispatcher batch is stuck stops within the bound on SIGTERM', async () => {
    const e = await triggerEnv(suite.client, cleanups, 'stop-worker');
    const w = await workerProcess(e);
    const lock = await stuckBatch(e, w.output);
    const { exit, took } = await timedStop(w, 'SIGTERM', 'worker process, stuck batch');
    await lock.release();
    expect(exit.signal).toBeNull(); // it ended itself, not the harness's SIGKILL
    expect(took).toBeLessThan(SHUTDOWN_BOUND_MS);
  }, 150_000);

  it('npm start (worker and API in one process) with a stuck dispatcher batch stops within the bound on SIGINT', async () => {
    const e = await triggerEnv(suite.client, cleanups, 'stop-start');
    const started = startWorkerProcess({
      entry: 'toolchain/start.ts',
      temporalAddress: testTemporalAddress(),
      databaseUrl: testDatabaseUrl(),
      taskQueue: e.taskQueue,
      env: { PORT: '0', DATA_DIR: mkdtempSync(path.join(tmpdir(), 'campaign-start-')) },
    });
    await until(
      'npm start is up',
      () => /API +http:\/\/localhost:\d+/.test(started.output()),
      90_000,
      started.output,
    );
    const port = /API +http:\/\/localhost:(\d+)/.exec(started.output())![1];
    const lock = await stuckBatch({ ...e, app: `http://127.0.0.1:${port}` }, started.output);
    const { exit, took } = await timedStop(started, 'SIGINT', 'npm start, stuck batch');
    await lock.release();
    expect(exit.signal).toBeNull();
    expect(took).toBeLessThan(SHUTDOWN_BOUND_MS);
  }, 180_000);

  it("start:cluster's processes (a worker, an API process) with a stuck dispatcher batch stop within the bound", async () => {
    const e = await triggerEnv(suite.client, cleanups, 'stop-cluster');
    const port = await freePort();
    const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'campaign-cluster-')), 'cluster.log');
    const processes = await startProcessCluster({
      workers: 1,
      apis: 1,
      restart: false,
      logFile,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: testTemporalAddress(),
        TEMPORAL_TASK_QUEUE: e.taskQueue,
        DATABASE_URL: testDatabaseUrl(),
        PORT: String(port),
        WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_SECRET: 'shutdown-suite-secret',
        TRACKING_KEY: 'shutdown-suite-tracking-key',
        LOG_LEVEL: 'warn',
        TEMPORAL_LOG_LEVEL: 'error',
      },
    });
    const kill = () => processes.members().forEach((m) => process.kill(m.pid, 'SIGKILL'));
    cleanups.push(async () => kill());
    const log = () => readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    const lock = await stuckBatch({ ...e, app: `http://127.0.0.1:${port}` }, log);
    const t = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      processes.stop().then(() => 'stopped'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), 60_000))),
    ]);
    clearTimeout(timer);
    const took = Date.now() - t;
    report({ scenario: 'start:cluster processes, stuck batch', ended, took });
    await lock.release();
    expect(ended).toBe('stopped');
    expect(took).toBeLessThan(SHUTDOWN_BOUND_MS);
  }, 180_000);
});
