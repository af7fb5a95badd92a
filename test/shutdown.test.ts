/**
 * A stop is bounded whatever activities are doing (issue 19, item 1): a worker process
 * (`worker/main.ts`) and `npm start` (`toolchain/start.ts`: worker and API in one process), each with a
 * trigger dispatcher whose batch is stuck for good (its execution row locked by the test, so it can
 * never record its outcomes), end by themselves within 30 s of SIGTERM / SIGINT (SHUTDOWN_TIMEOUT,
 * 25 s by default).
 */
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createAudience, until } from './harness/campaigns';
import { killWorkerProcesses, startWorkerProcess, type WorkerProcess } from './harness/processes';
import { testDatabaseUrl, testTemporalAddress } from './harness/stack';
import {
  liveCampaign,
  lockExecution,
  receiver,
  trigger,
  triggerEnv,
  workerProcess,
  type Cleanups,
  type TriggerEnv,
} from './harness/trigger-env';

/** What the issue asks of a stop: within 30 s. */
const SHUTDOWN_BOUND_MS = 30_000;

describe('a stop is bounded', () => {
  let connection: Connection;
  let client: Client;
  const cleanups: Cleanups = [];

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
    client = new Client({ connection });
  });

  afterEach(async () => {
    await killWorkerProcesses();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  afterAll(async () => {
    await connection?.close();
  });

  /** Triggers 40 recipients against a slow receiver and locks the execution: the batch is stuck. */
  async function stuckBatch(e: TriggerEnv, p: WorkerProcess) {
    const hook = await receiver(cleanups, { delayMs: 500 });
    const campaignId = await liveCampaign(e, hook);
    const { ids } = await createAudience(e.pool, 40);
    const answer = await trigger(e, campaignId, ids);
    expect(answer.status).toBe(202);
    const lock = await lockExecution(e, cleanups, answer.body.executionId);
    await until('the batch sent and is stuck on the lock', () => hook.delivered.size >= 40, 60_000, p.output);
    return lock;
  }

  /**
   * Sends `signal`, waits (up to 60 s, then SIGKILL), and says how it ended and how long it took
   * (appended to `FAULT_REPORT` when set).
   */
  async function timedStop(p: WorkerProcess, signal: NodeJS.Signals, what: string) {
    const t = Date.now();
    const exit = await p.stop(signal, 60_000);
    const took = Date.now() - t;
    const file = process.env.FAULT_REPORT;
    if (file) appendFileSync(file, `${JSON.stringify({ scenario: what, signal, exit, took })}\n`);
    return { exit, took };
  }

  it('a worker process whose dispatcher batch is stuck stops within the bound on SIGTERM', async () => {
    const e = await triggerEnv(client, cleanups, 'stop-worker');
    const w = await workerProcess(e);
    const lock = await stuckBatch(e, w);
    const { exit, took } = await timedStop(w, 'SIGTERM', 'worker process, stuck batch');
    await lock.release();
    expect(exit.signal).toBeNull(); // it ended itself, not the harness's SIGKILL
    expect(took).toBeLessThan(SHUTDOWN_BOUND_MS);
  }, 150_000);

  it('npm start (worker and API in one process) with a stuck dispatcher batch stops within the bound on SIGINT', async () => {
    const e = await triggerEnv(client, cleanups, 'stop-start');
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
    const lock = await stuckBatch({ ...e, app: `http://127.0.0.1:${port}` }, started);
    const { exit, took } = await timedStop(started, 'SIGINT', 'npm start, stuck batch');
    await lock.release();
    expect(exit.signal).toBeNull();
    expect(took).toBeLessThan(SHUTDOWN_BOUND_MS);
  }, 180_000);
});
