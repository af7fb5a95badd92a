/**
 * Several processes, as `npm run start:cluster` runs them (toolchain/process-cluster.ts): workers
 * polling one task queue and API processes sharing one port, on the harness's Temporal server (the
 * real server on PostgreSQL when TEST_TEMPORAL_TARGET=cluster) and PostgreSQL. A worker SIGKILLed
 * mid-run leaves the run to the other; an API process SIGKILLed leaves requests to the other; a
 * rolling restart of every worker across a recurring campaign's occurrence loses none. The processes
 * run the compiled service (`npm run build`'s dist/) with plain node.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { BUILT, ensureBuilt } from '../toolchain/build';
import { startProcessCluster, type ProcessCluster } from '../toolchain/process-cluster';
import { freePort } from '../toolchain/postgres';
import { runWorkflowId } from '../delivery/run';
import { createAudience, runFinished, startCampaign, summarise, until } from './harness/campaigns';
import { recipientOf, startWebhookReceiver, type WebhookReceiver } from './harness/receivers';
import { testDatabaseUrl, testTemporalAddress, uniqueTaskQueue } from './harness/stack';

const ADMIN_KEY = 'cluster-suite-admin-key-0123456789';

describe('several workers and API processes', () => {
  let pool: Pool;
  let connection: Connection;
  let client: Client;
  let dir: string;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 3 });
    connection = await Connection.connect({ address: testTemporalAddress() });
    client = new Client({ connection });
    dir = mkdtempSync(path.join(tmpdir(), 'cluster-suite-'));
    // Built here (when missing or stale) rather than inside the first test's time.
    await ensureBuilt();
  }, 300_000);

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  afterAll(async () => {
    await connection?.close();
    await pool?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Processes on a task queue of their own; crashed ones stay down, so a test sees who did what. */
  async function processes(workers: number, apis: number) {
    const taskQueue = uniqueTaskQueue('cluster');
    const port = await freePort();
    const logFile = path.join(dir, `${taskQueue}.log`);
    const started: ProcessCluster = await startProcessCluster({
      workers,
      apis,
      restart: false,
      logFile,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: testTemporalAddress(),
        TEMPORAL_TASK_QUEUE: taskQueue,
        DATABASE_URL: testDatabaseUrl(),
        PORT: String(port),
        ADMIN_API_KEY: ADMIN_KEY,
        WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_SECRET: 'cluster-suite-secret',
        TRACKING_KEY: 'cluster-suite-tracking-key',
        LOG_LEVEL: 'warn',
        TEMPORAL_LOG_LEVEL: 'error',
      },
    });
    cleanups.push(() => started.stop());
    const log = () => readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    return { cluster: started, taskQueue, url: `http://127.0.0.1:${port}`, log };
  }

  async function receiver(): Promise<WebhookReceiver> {
    const r = await startWebhookReceiver();
    cleanups.push(() => r.close());
    return r;
  }

  const pids = (cluster: ProcessCluster, role: 'worker' | 'api') =>
    cluster
      .members()
      .filter((m) => m.role === role)
      .map((m) => m.pid);

  it('workers and API processes run the built JavaScript with plain node, no TypeScript loader', async () => {
    const { cluster, url } = await processes(1, 1);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const commandLines = cluster
      .members()
      .map((m) => readFileSync(`/proc/${m.pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
    expect(commandLines).toEqual([
      [process.execPath, BUILT.worker],
      [process.execPath, BUILT.api],
    ]);
  }, 150_000);

  it('a worker SIGKILLed mid-run: the other worker finishes the run, every recipient once', async () => {
    const { cluster, taskQueue, log } = await processes(2, 0);
    const hook = await receiver();
    const { ids, audienceId } = await createAudience(pool, 300);
    const campaign = await startCampaign(client, taskQueue, {
      audienceId,
      webhookUrl: hook.url,
      throttle: 25,
    });
    await until('75 requests received', () => hook.received.length >= 75, 60_000, log);
    // The worker running the delivery activity, by the identity it polls with (`<pid>@<host>`).
    const run = client.workflow.getHandle(runWorkflowId(campaign.id, 1));
    const activity = (await run.describe()).raw.pendingActivities?.[0];
    const busy = Number(activity?.lastWorkerIdentity?.split('@')[0]);
    expect(pids(cluster, 'worker')).toContain(busy);
    const victim = cluster.members().find((m) => m.pid === busy)!;
    process.kill(busy, 'SIGKILL');
    await victim.exited;
    const [survivor] = pids(cluster, 'worker');
    await until('the run finishes', () => runFinished(pool, campaign), 90_000, log);
    const summary = await summarise(pool, campaign, ids, hook);
    expect(summary).toMatchObject({ audience: 300, sent: 300, lost: 0, duplicated: 0, run: 'completed' });
    expect(new Set([...hook.delivered.keys()].map(recipientOf))).toEqual(new Set(ids));
    const finished = await run.fetchHistory();
    const lastStart = finished.events!.filter((e) => e.activityTaskStartedEventAttributes).at(-1);
    expect(lastStart?.activityTaskStartedEventAttributes?.identity).toMatch(new RegExp(`^${survivor}@`));
  }, 150_000);

  it('an API process SIGKILLed: requests on the shared port keep being answered by the other', async () => {
    const { cluster, url, log } = await processes(1, 2);
    const get = () =>
      fetch(`${url}/v1/campaigns?limit=1`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then(
        (r) => r.status,
        (error: Error) => error.message,
      );
    expect(await Promise.all(Array.from({ length: 10 }, get))).toEqual(Array(10).fill(200));
    // The primary sums the processes' metrics: all 10 requests, whichever process served each.
    expect(await cluster.apiMetrics()).toContain(
      'http_request_duration_seconds_count{method="GET",route="/v1/campaigns",status="200"} 10',
    );
    const [victim, survivor] = pids(cluster, 'api');
    process.kill(victim, 'SIGKILL');
    await cluster.members().find((m) => m.pid === victim)!.exited;
    expect(pids(cluster, 'api')).toEqual([survivor]);
    const after: unknown[] = [];
    for (let i = 0; i < 40; i++) after.push(await get());
    expect({ after, log: after.every((s) => s === 200) ? '' : log() }).toEqual({
      after: Array(40).fill(200),
      log: '',
    });
  }, 90_000);

  it('a rolling restart of every worker across a daily occurrence: the occurrence runs once', async () => {
    const { cluster, url, log } = await processes(2, 1);
    const hook = await receiver();
    const { ids, audienceId } = await createAudience(pool, 50);
    // The next whole minute at least 25 s away (so 25-85 s away): the occurrence the restart straddles.
    const at = new Date(Math.ceil((Date.now() + 25_000) / 60_000) * 60_000);
    const hhmm = at.toISOString().slice(11, 16);
    const call = (method: string, route: string, body: unknown) =>
      fetch(`${url}${route}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const created = await call('POST', '/v1/campaigns', {
      name: 'daily across a rolling restart',
      channel: 'webhook',
      content: { url: hook.url, body: 'Hi {{firstName}}' },
      schedule: { recurrence: { kind: 'daily', at: hhmm, timezone: 'UTC' } },
      audience: { audienceId },
    });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    expect((await call('POST', `/v1/campaigns/${id}/activate`, {})).status).toBe(200);
    const before = pids(cluster, 'worker');
    // Each replacement starts (a plain node process start and a connection: about 0.6 s of the
    // compiled build here, more under load) before its predecessor stops, so two of them in turn
    // span the instant when started half a second before it.
    await until('0.5 s before the occurrence', async () => Date.now() >= at.getTime() - 500, 90_000);
    const restart = { from: Date.now(), to: 0 };
    await cluster.rollingRestart('worker');
    restart.to = Date.now();
    const span = { from: restart.from - at.getTime(), to: restart.to - at.getTime() };
    expect({ spans: span.from < 0 && span.to > 0, span }).toEqual({ spans: true, span });
    const after = pids(cluster, 'worker');
    expect(after.filter((pid) => before.includes(pid))).toEqual([]);
    const runs = async () =>
      (
        await pool.query<{ n: number; status: string }>(
          'SELECT number AS n, status FROM campaign_runs WHERE campaign_id = $1',
          [id],
        )
      ).rows;
    await until(
      'the occurrence ran',
      async () => (await runs()).some((r) => r.status === 'completed'),
      90_000,
      log,
    );
    expect(await runs()).toEqual([{ n: 1, status: 'completed' }]);
    expect(hook.duplicates()).toEqual([]);
    expect(new Set([...hook.delivered.keys()].map(recipientOf))).toEqual(new Set(ids));
    const state = await client.workflow.getHandle(`campaign-${id}`).describe();
    expect(state.status.name).toBe('RUNNING'); // waiting for tomorrow's occurrence
  }, 180_000);
});
