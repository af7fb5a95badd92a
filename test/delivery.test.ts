/**
 * Delivery on the real stack (dev server, worker, PostgreSQL): stop `cancel` and `drain` in the
 * middle of a 10,000-recipient run, a worker killed mid-run or shut down gracefully, a slow webhook
 * receiver, an attempt cut off from Temporal mid-batch, webhooks and SMTP that fail for a while
 * then succeed or fail for good, email through a real local SMTP server, and profiles unsubscribed
 * before or during a run excluded.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { Pool } from 'pg';
import type { campaignWorkflow } from '../workflows/campaign';
import {
  activateUpdate,
  campaignWorkflowId,
  projectedUpdate,
  stateQuery,
  stopUpdate,
} from '../workflows/messages';
import type { DeliveryConfig } from '../activities';
import { createAudience, type ProfileVariation } from './harness/campaigns';
import { startSmtpCapture, type SmtpCapture } from './harness/receivers';
import type { CampaignContent, Channel } from '../domain/types';
import {
  runTestWorker,
  startDevStack,
  testDatabaseUrl,
  testTemporalAddress,
  uniqueTaskQueue,
  type DevStack,
} from './harness/stack';

const EMAIL: CampaignContent = {
  sender: 'news@shop.example',
  subject: 'Hello {{default profile.firstName "there"}}',
  body: 'Dear {{profile.firstName}}, your tier: {{profile.attributes.tier}}.',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns true, at most `ms`. */
async function until(probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(100);
  }
  throw new Error('condition not met in time');
}

describe('delivery on the real stack', () => {
  let stack: DevStack;
  let pool: Pool;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    stack = await startDevStack('delivery', {
      smtp: { host: '127.0.0.1', port: smtp.port, allowInsecure: true },
      webhook: { attempts: 3, minBackoffMs: 20, timeoutMs: 2000 },
      transientRetry: { firstDelayMs: 200, maxDelayMs: 1000 },
    });
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 3 });
  });

  afterAll(async () => {
    await stack?.stop();
    await pool?.end();
    await smtp?.close();
  });

  const audienceOf = (n: number, vary?: (i: number) => ProfileVariation) => createAudience(pool, n, vary);

  let n = 0;
  const meta = () => ({ requestId: `d-${++n}`, actor: 'tester' });

  async function campaign(
    options: { channel?: Channel; content?: CampaignContent; audienceId: string; throttle?: number },
    taskQueue = stack.taskQueue,
  ): Promise<{ id: string; handle: WorkflowHandle<typeof campaignWorkflow> }> {
    const id = randomUUID();
    const handle = await stack.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(id),
      taskQueue,
      args: [
        {
          create: {
            campaignId: id,
            name: 'delivery',
            type: 'scheduled',
            channel: options.channel ?? 'email',
            content: options.content ?? EMAIL,
            audience: { audienceId: options.audienceId },
            ...(options.throttle ? { throttle: options.throttle } : {}),
            ...meta(),
          },
        },
      ],
    });
    await handle.executeUpdate(projectedUpdate);
    return { id, handle };
  }

  async function counts(id: string): Promise<Record<string, number>> {
    const { rows } = await pool.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM messages WHERE campaign_id = $1 GROUP BY status`,
      [id],
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
  const sentOf = async (id: string) => {
    const c = await counts(id);
    return (c.sent ?? 0) + (c.delivered ?? 0);
  };

  it('cancel in the middle of a 10,000-recipient run: nothing leaves after stop returns; the receipt adds up', async () => {
    const { audienceId } = await audienceOf(10_000, (i) => ({ subscribed: i % 100 !== 0 })); // 100 unsubscribed
    const { id, handle } = await campaign({ audienceId, throttle: 2000 });
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    await until(async () => (await sentOf(id)) >= 1000);
    const stop = await handle.executeUpdate(stopUpdate, { args: [{ ...meta(), mode: 'cancel' }] });
    const sentAtReturn = await sentOf(id);
    const receipt = stop.receipt!;
    expect(receipt.mode).toBe('cancel');
    expect(receipt.sent).toBe(sentAtReturn);
    expect(receipt.sent).toBeGreaterThanOrEqual(1000);
    expect(receipt.sent).toBeLessThan(9900);
    await sleep(2000);
    const after = await counts(id);
    expect((after.sent ?? 0) + (after.delivered ?? 0)).toBe(sentAtReturn); // nothing more left
    expect(after.excluded).toBe(100);
    expect(receipt.sent + receipt.cancelled + after.excluded).toBe(10_000);
    expect(after.cancelled).toBe(receipt.cancelled);
    expect(after.pending).toBeUndefined(); // every recipient has its row: sent, excluded or cancelled
    await until(async () => (await handle.query(stateQuery)).runs.active === null);
    const state = await handle.query(stateQuery);
    expect(state).toMatchObject({
      status: 'stopped',
      stop: { sent: receipt.sent, cancelled: receipt.cancelled },
    });
    const { rows } = await pool.query(`SELECT status FROM campaign_runs WHERE campaign_id = $1`, [id]);
    expect(rows).toEqual([{ status: 'cancelled' }]);
  });

  it('drain lets the run in flight finish, then nothing more', async () => {
    const { audienceId } = await audienceOf(4000);
    const { id, handle } = await campaign({ audienceId, throttle: 2000 });
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    await until(async () => (await sentOf(id)) >= 500);
    const stop = await handle.executeUpdate(stopUpdate, { args: [{ ...meta(), mode: 'drain' }] });
    expect(stop.state.status).toBe('stopped');
    expect(stop.receipt).toMatchObject({ mode: 'drain', cancelled: 0 });
    await until(async () => (await sentOf(id)) === 4000);
    await until(async () => (await handle.query(stateQuery)).runs.active === null);
    const { rows } = await pool.query(`SELECT status FROM campaign_runs WHERE campaign_id = $1`, [id]);
    expect(rows).toEqual([{ status: 'completed' }]);
    expect((await handle.query(stateQuery)).runs.count).toBe(1);
  });

  it('a worker killed mid-run and restarted gives every recipient exactly one message', async () => {
    const taskQueue = uniqueTaskQueue('crash');
    // `node --import tsx`: the spawned process is the worker itself (tsx's CLI would run it as a
    // grandchild that a SIGKILL of the CLI leaves running).
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: path.join(__dirname, '..'),
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: testTemporalAddress(),
        TEMPORAL_TASK_QUEUE: taskQueue,
        DATABASE_URL: testDatabaseUrl(),
        WEBHOOK_SECRET: 'crash-suite-webhook-secret',
        TRACKING_KEY: 'crash-suite-tracking-key',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    try {
      const { audienceId } = await audienceOf(3000);
      const { id, handle } = await campaign({ audienceId, throttle: 1000 }, taskQueue);
      await handle.executeUpdate(activateUpdate, { args: [meta()] });
      await until(async () => (await sentOf(id)) >= 500);
      child.kill('SIGKILL');
      await new Promise((resolve) =>
        child.exitCode !== null || child.signalCode ? resolve(null) : child.once('exit', resolve),
      );
      expect(child.signalCode).toBe('SIGKILL');
      const before = await pool.query<{ profile_id: string; sent_at: Date }>(
        `SELECT profile_id, sent_at FROM messages WHERE campaign_id = $1 AND status = 'sent'`,
        [id],
      );
      expect(before.rows.length).toBeLessThan(3000);
      const connection = await NativeConnection.connect({ address: testTemporalAddress() });
      const worker = await runTestWorker({ connection, taskQueue, prisma: stack.prisma });
      try {
        await until(async () => (await sentOf(id)) === 3000, 90_000);
        await until(async () => (await handle.query(stateQuery)).status === 'completed', 30_000);
      } finally {
        await worker.stop();
        await connection.close();
      }
      const after = await pool.query<{ profile_id: string; sent_at: Date; n: string }>(
        `SELECT profile_id, sent_at FROM messages WHERE campaign_id = $1`,
        [id],
      );
      expect(after.rows).toHaveLength(3000); // one row (one message) per recipient
      const sentAt = new Map(after.rows.map((r) => [r.profile_id, r.sent_at.getTime()]));
      for (const r of before.rows) expect(sentAt.get(r.profile_id)).toBe(r.sent_at.getTime()); // never re-sent
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('webhooks: a 500 then 200 delivers once; a 400 fails with the reason; unsubscribed are excluded', async () => {
    const hits = new Map<string, number>();
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { recipient } = JSON.parse(body) as { recipient: string };
        const count = (hits.get(recipient) ?? 0) + 1;
        hits.set(recipient, count);
        if (recipient.endsWith('00001')) res.writeHead(count === 1 ? 500 : 200).end('ok');
        else res.writeHead(400).end('bad address');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const { audienceId, ids } = await audienceOf(3, (i) => ({ subscribed: i !== 2 }));
      const { id, handle } = await campaign({
        audienceId,
        channel: 'webhook',
        content: { url, body: 'Hi {{firstName}}' },
      });
      await handle.executeUpdate(activateUpdate, { args: [meta()] });
      await until(async () => (await handle.query(stateQuery)).status === 'completed');
      const { rows } = await pool.query(
        `SELECT profile_id, status, reason, rendered FROM messages WHERE campaign_id = $1 ORDER BY profile_id`,
        [id],
      );
      expect(rows).toEqual([
        { profile_id: ids[0], status: 'delivered', reason: null, rendered: { body: 'Hi P1' } },
        {
          profile_id: ids[1],
          status: 'failed',
          reason: 'HTTP 400 Bad Request', // the status line, never the receiver's body
          rendered: { body: 'Hi P2' },
        },
        { profile_id: ids[2], status: 'excluded', reason: 'unsubscribed', rendered: null },
      ]);
      expect(hits.get(ids[0])).toBe(2);
      expect(hits.get(ids[1])).toBe(1);
      expect(hits.has(ids[2])).toBe(false);
    } finally {
      server.close();
    }
  });

  it('email is received by a real SMTP server, rendered from the pinned version and the profile', async () => {
    const { audienceId, ids } = await audienceOf(3, (i) => ({ email: i === 1 ? null : undefined }));
    const { id, handle } = await campaign({ audienceId });
    const before = smtp.received.length;
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    await until(async () => (await handle.query(stateQuery)).status === 'completed');
    const mails = smtp.received.slice(before);
    expect(mails).toHaveLength(2);
    const first = mails.find((m) => m.includes(`${ids[0]}@example.com`))!;
    expect(first).toMatch(/Subject: Hello P1/);
    expect(first).toMatch(/Dear P1, your tier: silver\./);
    expect(mails.find((m) => m.includes(`${ids[2]}@example.com`))).toMatch(/your tier: silver/);
    const c = await counts(id);
    expect(c).toEqual({ sent: 2, excluded: 1 });
    const { rows } = await pool.query(
      `SELECT reason, version FROM messages WHERE campaign_id = $1 AND status = 'excluded'`,
      [id],
    );
    expect(rows).toEqual([{ reason: 'no email address', version: 1 }]);
  });
  /** Runs `work` with a worker of its own (its own task queue and delivery settings), then stops it. */
  async function withWorker<T>(
    delivery: Partial<DeliveryConfig>,
    work: (taskQueue: string) => Promise<T>,
  ): Promise<T> {
    const taskQueue = uniqueTaskQueue('own');
    const connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const worker = await runTestWorker({ connection, taskQueue, prisma: stack.prisma, delivery });
    try {
      return await work(taskQueue);
    } finally {
      await worker.stop();
      await connection.close();
    }
  }

  /** A webhook receiver counting requests and 2xx answers per Idempotency-Key; `answer` decides. */
  async function receiver(answer: (key: string, res: http.ServerResponse) => void) {
    const requests = new Map<string, number>();
    const delivered = new Map<string, number>();
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const key = req.headers['idempotency-key'] as string;
        requests.set(key, (requests.get(key) ?? 0) + 1);
        res.on('finish', () => {
          if (res.statusCode < 300) delivered.set(key, (delivered.get(key) ?? 0) + 1);
        });
        answer(key, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
      requests,
      delivered,
      close: () => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  const keysOf = (id: string, ids: string[]) => ids.map((p) => `${id}:1:${p}`);
  async function runRow(id: string) {
    const { rows } = await pool.query<{ status: string; recipients: number }>(
      `SELECT status, recipients FROM campaign_runs WHERE campaign_id = $1`,
      [id],
    );
    return rows;
  }

  it('a worker shut down gracefully mid-run hands the run to another worker: every recipient gets one message', async () => {
    const taskQueue = uniqueTaskQueue('graceful');
    const connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const first = await runTestWorker({
      connection,
      taskQueue,
      prisma: stack.prisma,
      shutdownGraceTime: '1s',
    });
    let firstStopped = false;
    let second: Awaited<ReturnType<typeof runTestWorker>> | undefined;
    try {
      const { audienceId } = await audienceOf(3000);
      const { id, handle } = await campaign({ audienceId, throttle: 1000 }, taskQueue);
      await handle.executeUpdate(activateUpdate, { args: [meta()] });
      await until(async () => (await sentOf(id)) >= 500);
      firstStopped = true;
      await first.stop(); // worker.shutdown(): the delivery activity is cancelled after the grace time
      expect(await sentOf(id)).toBeLessThan(3000);
      second = await runTestWorker({ connection, taskQueue, prisma: stack.prisma });
      await until(async () => (await handle.query(stateQuery)).status === 'completed', 90_000);
      expect(await counts(id)).toEqual({ sent: 3000 }); // one row, one message, per recipient
      expect(await runRow(id)).toEqual([{ status: 'completed', recipients: 3000 }]);
    } finally {
      if (!firstStopped) await first.stop();
      await second?.stop();
      await connection.close();
    }
  });

  it('a slow webhook receiver (a batch outlives the heartbeat timeout) gets each Idempotency-Key once', async () => {
    const hook = await receiver((_key, res) => setTimeout(() => res.writeHead(200).end(), 2500));
    try {
      await withWorker({ networkBatch: 5, networkConcurrency: 1 }, async (taskQueue) => {
        const { audienceId, ids } = await audienceOf(10);
        const { id, handle } = await campaign(
          { audienceId, channel: 'webhook', content: { url: hook.url, body: 'Hi {{firstName}}' } },
          taskQueue,
        );
        await handle.executeUpdate(activateUpdate, { args: [meta()] });
        await until(async () => (await handle.query(stateQuery)).status === 'completed', 90_000);
        expect(await counts(id)).toEqual({ delivered: 10 });
        expect(Object.fromEntries(hook.requests)).toEqual(
          Object.fromEntries(keysOf(id, ids).map((k) => [k, 1])),
        );
      });
    } finally {
      await hook.close();
    }
  });

  /** A TCP proxy to the dev server whose connections can be cut (a worker partitioned from Temporal). */
  async function temporalProxy() {
    const [host, port] = [
      testTemporalAddress().replace(/:\d+$/, ''),
      Number(testTemporalAddress().split(':').pop()),
    ];
    const sockets = new Set<net.Socket>();
    let cut = false;
    const server = net.createServer((client) => {
      if (cut) return void client.destroy();
      const upstream = net.connect(port, host);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      sockets.add(client).add(upstream);
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
      cut() {
        cut = true;
        for (const s of sockets) s.destroy();
      },
      restore() {
        cut = false;
      },
      close: () => {
        for (const s of sockets) s.destroy();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('an attempt cut off from Temporal mid-batch is fenced: its retry waits for the batch, nothing is sent twice', async () => {
    const taskQueue = uniqueTaskQueue('fence');
    const proxy = await temporalProxy();
    let cutOff = false;
    const hook = await receiver((_key, res) => {
      if (!cutOff) {
        cutOff = true;
        proxy.cut(); // the first worker's heartbeats stop reaching the server from now on
      }
      setTimeout(() => res.writeHead(200).end(), 2500);
    });
    const delivery = { networkBatch: 5, networkConcurrency: 1 };
    const partitioned = await NativeConnection.connect({ address: proxy.address });
    const direct = await NativeConnection.connect({ address: testTemporalAddress() });
    const first = await runTestWorker({ connection: partitioned, taskQueue, prisma: stack.prisma, delivery });
    let second: Awaited<ReturnType<typeof runTestWorker>> | undefined;
    try {
      const { audienceId, ids } = await audienceOf(10);
      const { id, handle } = await campaign(
        { audienceId, channel: 'webhook', content: { url: hook.url, body: 'Hi {{firstName}}' } },
        taskQueue,
      );
      await handle.executeUpdate(activateUpdate, { args: [meta()] });
      await until(async () => cutOff);
      // The heartbeat timeout (10 s) expires while the first attempt is still sending its batch;
      // the retry runs here.
      second = await runTestWorker({ connection: direct, taskQueue, prisma: stack.prisma, delivery });
      await until(async () => (await handle.query(stateQuery)).status === 'completed', 90_000);
      expect(await counts(id)).toEqual({ delivered: 10 });
      expect(Object.fromEntries(hook.requests)).toEqual(
        Object.fromEntries(keysOf(id, ids).map((k) => [k, 1])),
      );
    } finally {
      proxy.restore();
      await second?.stop();
      await first.stop();
      await partitioned.close();
      await direct.close();
      await proxy.close();
      await hook.close();
    }
  });

  it('a webhook 5xx storm leaves recipients pending and the run retries until each is delivered once', async () => {
    let stormUntil = 0;
    const hook = await receiver((_key, res) => {
      if (stormUntil === 0) stormUntil = Date.now() + 2000;
      res.writeHead(Date.now() < stormUntil ? 503 : 200).end();
    });
    try {
      const { audienceId, ids } = await audienceOf(4);
      const { id, handle } = await campaign({
        audienceId,
        channel: 'webhook',
        content: { url: hook.url, body: 'Hi {{firstName}}' },
      });
      await handle.executeUpdate(activateUpdate, { args: [meta()] });
      await until(async () => (await handle.query(stateQuery)).status === 'completed', 90_000);
      expect(await counts(id)).toEqual({ delivered: 4 }); // none `failed`
      for (const key of keysOf(id, ids)) {
        expect(hook.requests.get(key)).toBeGreaterThan(1); // refused during the storm, at least once
        expect(hook.delivered.get(key)).toBe(1);
      }
      expect(await runRow(id)).toEqual([{ status: 'completed', recipients: 4 }]);
    } finally {
      await hook.close();
    }
  });

  it('a receiver down for longer than the retry window: its recipients end `failed` (unreachable)', async () => {
    const hook = await receiver((_key, res) => res.writeHead(503).end());
    try {
      await withWorker(
        { webhook: { attempts: 2, minBackoffMs: 10 }, transientRetry: { firstDelayMs: 100, windowMs: 1500 } },
        async (taskQueue) => {
          const { audienceId } = await audienceOf(3);
          const { id, handle } = await campaign(
            { audienceId, channel: 'webhook', content: { url: hook.url, body: 'Hi' } },
            taskQueue,
          );
          await handle.executeUpdate(activateUpdate, { args: [meta()] });
          await until(async () => (await handle.query(stateQuery)).status === 'completed', 60_000);
          const { rows } = await pool.query<{ status: string; reason: string }>(
            `SELECT status, reason FROM messages WHERE campaign_id = $1`,
            [id],
          );
          expect(rows).toHaveLength(3);
          for (const r of rows) {
            expect(r.status).toBe('failed');
            expect(r.reason).toMatch(/^unreachable: .*HTTP 503 Service Unavailable/);
          }
        },
      );
    } finally {
      await hook.close();
    }
  });

  it('an SMTP server refusing with 4xx for a while: the messages are sent once it accepts, none failed', async () => {
    const { audienceId, ids } = await audienceOf(3);
    const { id, handle } = await campaign({ audienceId });
    const before = smtp.received.length;
    smtp.refuseUntil = Date.now() + 2000;
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    await until(async () => (await handle.query(stateQuery)).status === 'completed', 60_000);
    expect(await counts(id)).toEqual({ sent: 3 });
    const mails = smtp.received.slice(before);
    for (const p of ids) {
      const mine = mails.filter((m) => m.includes(`${p}@example.com`));
      expect(mine).toHaveLength(1);
      const unfolded = mine[0].replace(/\r?\n[ \t]+/g, ' '); // a long header is folded
      expect(unfolded).toContain(`Message-ID: <${id}:1:${p}@campaign-orchestrator>`);
    }
  });

  it('a profile that unsubscribes during a throttled run gets no further message: excluded, unsubscribed', async () => {
    const { audienceId, ids } = await audienceOf(2000);
    const { id, handle } = await campaign({ audienceId, throttle: 500 });
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    await until(async () => (await sentOf(id)) >= 100);
    const late = ids.slice(1900);
    await pool.query(`UPDATE profiles SET subscribed = false WHERE id = ANY($1::text[])`, [late]);
    await until(async () => (await handle.query(stateQuery)).status === 'completed', 60_000);
    expect(await counts(id)).toEqual({ sent: 1900, excluded: 100 });
    const { rows } = await pool.query<{ profile_id: string; reason: string }>(
      `SELECT profile_id, reason FROM messages WHERE campaign_id = $1 AND status = 'excluded' ORDER BY profile_id`,
      [id],
    );
    expect(rows).toEqual(late.map((p) => ({ profile_id: p, reason: 'unsubscribed' })));
    expect(await runRow(id)).toEqual([{ status: 'completed', recipients: 2000 }]);
  });
});
