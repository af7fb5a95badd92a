/**
 * Delivery on the real stack (dev server, worker, PostgreSQL): stop `cancel` and `drain` in the
 * middle of a 10,000-recipient run, a worker killed mid-run, webhooks that fail then succeed or fail
 * for good, email through a real local SMTP server, and unsubscribed profiles excluded.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { Pool } from 'pg';
import { SMTPServer } from 'smtp-server';
import type { campaignWorkflow } from '../workflows/campaign';
import {
  activateUpdate,
  campaignWorkflowId,
  projectedUpdate,
  stateQuery,
  stopUpdate,
} from '../workflows/messages';
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
  let smtp: SMTPServer;
  let smtpPort: number;
  const received: string[] = [];

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        let raw = '';
        stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
        stream.on('end', () => {
          received.push(raw);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as AddressInfo).port;
    stack = await startDevStack('delivery', {
      smtp: { host: '127.0.0.1', port: smtpPort, allowInsecure: true },
      webhook: { attempts: 3, minBackoffMs: 20, timeoutMs: 2000 },
    });
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 3 });
  });

  afterAll(async () => {
    await stack?.stop();
    await pool?.end();
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  });

  /** Creates `n` profiles (ids `<prefix>-00001`…) in one statement, and a static audience of them. */
  async function audienceOf(
    n: number,
    extra: (i: number) => { subscribed?: boolean; email?: string | null } = () => ({}),
  ) {
    const prefix = randomUUID().slice(0, 8);
    const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);
    await pool.query(
      `INSERT INTO profiles (id, email, attributes, subscribed)
       SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::boolean[])`,
      [
        ids,
        ids.map((id, i) => (extra(i).email === null ? null : `${id}@example.com`)),
        ids.map((_, i) => JSON.stringify({ firstName: `P${i + 1}`, tier: i % 2 ? 'gold' : 'silver' })),
        ids.map((_, i) => extra(i).subscribed ?? true),
      ],
    );
    const audienceId = randomUUID();
    await pool.query(`INSERT INTO audiences (id, name) VALUES ($1, $2)`, [audienceId, `aud-${prefix}`]);
    await pool.query(`INSERT INTO audience_members (audience_id, profile_id) SELECT $1, unnest($2::text[])`, [
      audienceId,
      ids,
    ]);
    return { audienceId, ids };
  }

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
          reason: 'HTTP 400: bad address',
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
    const before = received.length;
    await handle.executeUpdate(activateUpdate, { args: [meta()] });
    await until(async () => (await handle.query(stateQuery)).status === 'completed');
    const mails = received.slice(before);
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
});
