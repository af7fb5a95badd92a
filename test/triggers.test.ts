/**
 * API-triggered campaigns on the real stack (Temporal dev server, PostgreSQL, a real worker), through
 * the HTTP API: category rules and consent, context schemas at review and per call, idempotent
 * repeats, version pinning across an activation, stop during a stream of calls, 409/413/422/429,
 * scheduled executions and their cancellation, callbacks, and history that does not grow per call.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { createApp } from '../api/app';
import { testApp } from './harness/api';
import { createApiKey } from '../api/auth';
import { campaignWorkflowId } from '../workflows/messages';
import { createAudience, until } from './harness/campaigns';
import { startWebhookReceiver, type WebhookReceiver } from './harness/receivers';
import { NativeConnection } from '@temporalio/worker';
import {
  runTestWorker,
  startDevStack,
  testTemporalAddress,
  uniqueTaskQueue,
  type DevStack,
} from './harness/stack';

const SCHEMA = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    order: { type: 'object', properties: { id: { type: 'integer' } } },
  },
  required: ['code'],
};

describe('API-triggered campaigns', () => {
  let stack: DevStack;
  let app: ReturnType<typeof createApp>;
  let receiver: WebhookReceiver;
  const auth: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startDevStack('triggers');
    receiver = await startWebhookReceiver();
    app = testApp(stack, { webhookAllowPrivate: true });
    for (const role of ['editor', 'publisher', 'trigger', 'viewer'] as const) {
      auth[role] =
        `Bearer ${(await createApiKey(stack.prisma, `${role}-${randomUUID().slice(0, 6)}`, role)).key}`;
    }
  });
  afterAll(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  const post = (path: string, body: object, role = 'trigger', headers: Record<string, string> = {}) =>
    request(app).post(path).set('Authorization', auth[role]).set(headers).send(body);
  const get = (path: string) => request(app).get(path).set('Authorization', auth.viewer);

  /** Creates and activates an api_triggered campaign; returns its id. */
  async function liveCampaign(body: object): Promise<string> {
    const created = await post('/v1/campaigns', { name: 'trig', type: 'api_triggered', ...body }, 'editor');
    expect(created.status).toBe(201);
    const activated = await post(`/v1/campaigns/${created.body.id}/activate`, {}, 'publisher');
    expect(activated.status).toBe(200);
    return created.body.id as string;
  }

  async function finished(executionId: string) {
    let body: Record<string, unknown> = {};
    await until(
      `execution ${executionId} finished`,
      async () => {
        body = (await get(`/v1/executions/${executionId}`)).body;
        return !['accepted', 'in_progress'].includes(body.status as string);
      },
      30_000,
    );
    return body as {
      status: string;
      finishedAt: string;
      outcomes: Array<Record<string, unknown>>;
      counts: Record<string, number>;
    };
  }

  async function profile(id: string, subscribed = true) {
    await stack.pool.query(
      `INSERT INTO profiles (id, phone, attributes, subscribed) VALUES ($1, '+33600000000', $2, $3)`,
      [id, JSON.stringify({ firstName: id }), subscribed],
    );
  }

  it('transactional: sends to the recipients named, consent not applied; unknown profiles refused, asked ones created', async () => {
    const id = await liveCampaign({
      category: 'transactional',
      channel: 'sms',
      content: { body: 'Code {{context.code}} for {{firstName}}', contextSchema: SCHEMA },
    });
    const p = `tx-${randomUUID().slice(0, 8)}`;
    await profile(`${p}-out`, false);
    const res = await post(`/v1/campaigns/${id}/trigger`, {
      context: { code: 'SHARED' },
      recipients: [
        { profileId: `${p}-out`, context: { code: 'A1' } },
        { profileId: `${p}-ghost` },
        { phone: '+33611111111', profile: { id: `${p}-new`, attributes: { firstName: 'Neo' } } },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/executions/${res.body.executionId}`);
    expect(res.body).toMatchObject({ version: 1, category: 'transactional', accepted: 2, refused: 1 });
    const done = await finished(res.body.executionId);
    expect(done.status).toBe('succeeded');
    expect(done.outcomes.map((o) => [o.profileId, o.status, o.reason])).toEqual([
      [`${p}-out`, 'sent', null], // unsubscribed from marketing, still sent: the person asked for it
      [`${p}-ghost`, 'refused', 'unknown profile'],
      [`${p}-new`, 'sent', null],
    ]);
    const rendered = await stack.pool.query<{ body: string }>(
      `SELECT rendered->>'body' AS body FROM execution_messages WHERE execution_id = $1 ORDER BY recipient`,
      [res.body.executionId],
    );
    expect(rendered.rows.map((r) => r.body)).toEqual([`Code A1 for ${p}-out`, null, 'Code SHARED for Neo']);
    expect((await stack.prisma.profile.findUniqueOrThrow({ where: { id: `${p}-new` } })).phone).toBe(
      '+33611111111',
    );
  });

  it('an execution’s messages: per recipient what was sent (rendered), status, reason, times, version; paged', async () => {
    const id = await liveCampaign({
      category: 'transactional',
      channel: 'sms',
      content: { body: 'Code {{context.code}}' },
    });
    const p = `msg-${randomUUID().slice(0, 8)}`;
    await profile(p);
    const res = await post(`/v1/campaigns/${id}/trigger`, {
      context: { code: 'X' },
      recipients: [
        { profileId: p, context: { code: 'P' } },
        { profileId: `${p}-ghost` },
        { phone: '+33622' },
      ],
    });
    const done = await finished(res.body.executionId);
    const path = `/v1/executions/${res.body.executionId}/messages`;
    const first = await get(`${path}?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual([
      {
        recipient: 0,
        profileId: p,
        address: null,
        version: 1,
        status: 'sent',
        reason: null,
        rendered: { body: 'Code P' },
        createdAt: expect.any(String),
        sentAt: expect.any(String),
      },
      expect.objectContaining({ recipient: 1, status: 'refused', reason: 'unknown profile', rendered: null }),
    ]);
    expect(Date.parse(first.body.items[0].sentAt)).toBeLessThanOrEqual(Date.parse(done.finishedAt));
    const rest = await get(`${path}?limit=2&cursor=${first.body.nextCursor}`);
    expect(rest.body).toMatchObject({
      items: [{ recipient: 2, address: '+33622', status: 'sent', rendered: { body: 'Code X' } }],
      nextCursor: null,
    });
    expect(
      (await get(`${path}?status=refused`)).body.items.map((m: { recipient: number }) => m.recipient),
    ).toEqual([1]);
    // A cursor of another execution, or made up: 400 naming the field; no such execution: 404.
    const other = await post(`/v1/campaigns/${id}/trigger`, {
      recipients: [{ phone: '+1' }, { phone: '+2' }],
    });
    const otherCursor = (await get(`/v1/executions/${other.body.executionId}/messages?limit=1`)).body
      .nextCursor;
    for (const cursor of [otherCursor, 'bm9wZQ']) {
      const bad = await get(`${path}?cursor=${cursor}`);
      expect([bad.status, bad.body.errors?.[0]?.field]).toEqual([400, 'cursor']);
    }
    expect((await get(`/v1/executions/${randomUUID()}/messages`)).status).toBe(404);
    // The campaign's /messages lists runs' messages; an api_triggered campaign's are per execution.
    expect((await get(`/v1/campaigns/${id}/messages`)).body.items).toEqual([]);
    const spec = (await get('/openapi.json')).body;
    expect(spec.paths['/v1/executions/{id}/messages'].get.responses).toHaveProperty('200');
  });

  it('an Idempotency-Key repeat answers the same execution and sends nothing more', async () => {
    const id = await liveCampaign({ category: 'transactional', channel: 'sms', content: { body: 'Hi' } });
    const p = `idem-${randomUUID().slice(0, 8)}`;
    await profile(p);
    const call = () =>
      post(`/v1/campaigns/${id}/trigger`, { recipients: [{ profileId: p }] }, 'trigger', {
        'Idempotency-Key': `k-${p}`,
      });
    const first = await call();
    const again = await call();
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.executionId).toBe(first.body.executionId);
    await finished(first.body.executionId);
    const rows = await stack.pool.query(`SELECT 1 FROM execution_messages WHERE campaign_id = $1`, [id]);
    expect(rows.rowCount).toBe(1);
  });

  it('refuses what the rules refuse: 409 not live or not api_triggered, 400 by category, 413, 422 by path, 403', async () => {
    const draft = await post('/v1/campaigns', { name: 'd', type: 'api_triggered', channel: 'sms' }, 'editor');
    const body = { recipients: [{ phone: '+33600000001' }] };
    expect((await post(`/v1/campaigns/${draft.body.id}/trigger`, body)).body).toMatchObject({
      status: 409,
      code: 'CAMPAIGN_NOT_LIVE',
    });
    const scheduled = await post('/v1/campaigns', { name: 's', channel: 'sms' }, 'editor');
    expect((await post(`/v1/campaigns/${scheduled.body.id}/trigger`, body)).body.code).toBe(
      'NOT_API_TRIGGERED',
    );
    const id = await liveCampaign({
      category: 'transactional',
      channel: 'sms',
      content: { body: '{{context.code}}', contextSchema: SCHEMA },
    });
    const marketingOnly = await post(`/v1/campaigns/${id}/trigger`, {
      ...body,
      executeAt: '2099-01-01T00:00:00Z',
    });
    expect(marketingOnly.status).toBe(400);
    expect(marketingOnly.body.errors).toEqual([
      { field: 'executeAt', message: expect.stringMatching(/marketing/) },
    ]);
    const wrongAddress = await post(`/v1/campaigns/${id}/trigger`, { recipients: [{ email: 'a@b.co' }] });
    expect(wrongAddress.body.errors[0]).toEqual({ field: 'recipients.0.email', message: expect.any(String) });
    const twice = await post(`/v1/campaigns/${id}/trigger`, {
      context: { code: 'x' },
      recipients: [{ phone: '+336' }, { phone: '+336' }],
    });
    expect(twice.body.errors[0].message).toMatch(/unique/);
    const big = await post(`/v1/campaigns/${id}/trigger`, {
      ...body,
      context: { code: 'x'.repeat(150_000), more: 'y'.repeat(150_000) },
    });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('CONTEXT_TOO_LARGE');
    const invalid = await post(`/v1/campaigns/${id}/trigger`, {
      recipients: [
        { phone: '+33600000002', context: { code: 'ok', order: { id: 'seven' } } },
        { phone: '+33600000003' },
      ],
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors).toEqual([
      { field: 'recipients.0.context.order.id', message: 'must be integer' },
      { field: 'recipients.1.context', message: "must have required property 'code'" },
    ]);
    expect((await post(`/v1/campaigns/${id}/trigger`, body, 'viewer')).status).toBe(403);
    // Nothing was queued by any refused call.
    expect((await stack.pool.query(`SELECT 1 FROM executions WHERE campaign_id = $1`, [id])).rowCount).toBe(
      0,
    );
  });

  it('review renders {{context.x}} against the contextSchema: a misspelt field fails review', async () => {
    const created = await post(
      '/v1/campaigns',
      {
        name: 'typo',
        type: 'api_triggered',
        category: 'transactional',
        channel: 'sms',
        content: { body: 'Order {{context.ordr}}', contextSchema: SCHEMA },
      },
      'editor',
    );
    const refused = await post(`/v1/campaigns/${created.body.id}/activate`, {}, 'publisher');
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      { field: 'content.body', message: expect.stringMatching(/does not render with sample data.*ordr/) },
    ]);
    const badSchema = await post(
      '/v1/campaigns',
      {
        name: 'bad',
        type: 'api_triggered',
        channel: 'sms',
        content: { body: 'x', contextSchema: { type: 'nope' } },
      },
      'editor',
    );
    const review = await post(`/v1/campaigns/${badSchema.body.id}/activate`, {}, 'publisher');
    expect(review.body.errors[0]).toMatchObject({ field: 'content.contextSchema' });
  });

  it('each execution is pinned to the version live when accepted; a draft changes nothing until activated', async () => {
    const id = await liveCampaign({
      category: 'transactional',
      channel: 'sms',
      content: { body: 'v1 {{context.n}}' },
    });
    const trigger = (n: number) =>
      post(`/v1/campaigns/${id}/trigger`, { context: { n }, recipients: [{ phone: `+3360000${n}` }] });
    const first = await trigger(1);
    await post(`/v1/campaigns/${id}/modify`, {}, 'editor').expect(201);
    const etag = (await get(`/v1/campaigns/${id}/draft`)).headers.etag;
    await request(app)
      .patch(`/v1/campaigns/${id}/draft`)
      .set('Authorization', auth.editor)
      .set('If-Match', etag)
      .send({ content: { body: 'v2 {{context.n}}' } })
      .expect(200);
    const duringDraft = await trigger(2);
    expect(duringDraft.body.version).toBe(1);
    await post(`/v1/campaigns/${id}/activate`, {}, 'publisher').expect(200);
    const after = await trigger(3);
    expect([first.body.version, after.body.version]).toEqual([1, 2]);
    for (const e of [first, duringDraft, after]) await finished(e.body.executionId);
    const { rows } = await stack.pool.query<{ body: string }>(
      `SELECT rendered->>'body' AS body FROM execution_messages WHERE campaign_id = $1 ORDER BY seq`,
      [id],
    );
    expect(rows.map((r) => r.body)).toEqual(['v1 1', 'v1 2', 'v2 3']);
  });

  it('marketing: an audience, consent honoured; a later execution can be cancelled until it fires', async () => {
    const { audienceId, ids } = await createAudience(stack.pool, 3, (i) => ({ subscribed: i !== 1 }));
    const id = await liveCampaign({
      category: 'marketing',
      channel: 'email',
      content: { sender: 'news@shop.example', subject: 'Sale {{context.pct}}%', body: 'Hi {{firstName}}' },
      audience: { audienceId },
    });
    const now = await post(`/v1/campaigns/${id}/trigger`, { context: { pct: 20 } });
    expect(now.body).toMatchObject({ accepted: 3, category: 'marketing' });
    const done = await finished(now.body.executionId);
    expect(done.outcomes.map((o) => [o.profileId, o.status, o.reason])).toEqual([
      [ids[0], 'sent', null],
      [ids[1], 'excluded', 'unsubscribed'],
      [ids[2], 'sent', null],
    ]);
    expect(done.status).toBe('succeeded');
    // A call for later fires when it is due (a timer in the campaign workflow, or the dispatcher awake).
    const executeAt = new Date(Date.now() + 2000).toISOString();
    const due = await post(`/v1/campaigns/${id}/trigger`, { executeAt, context: { pct: 30 } });
    expect(due.body).toMatchObject({ status: 'accepted', executeAt });
    const fired = await finished(due.body.executionId);
    expect(fired.counts).toMatchObject({ sent: 2, excluded: 1 });
    expect(Date.parse((fired as unknown as { startedAt: string }).startedAt)).toBeGreaterThanOrEqual(
      Date.parse(executeAt),
    );
    const later = await post(`/v1/campaigns/${id}/trigger`, {
      executeAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(later.body).toMatchObject({ status: 'accepted', accepted: 0 });
    const cancelled = await request(app)
      .delete(`/v1/executions/${later.body.executionId}`)
      .set('Authorization', auth.trigger);
    expect(cancelled.body.status).toBe('cancelled');
    const done2 = await post(`/v1/campaigns/${id}/trigger`, {});
    await finished(done2.body.executionId);
    const tooLate = await request(app)
      .delete(`/v1/executions/${done2.body.executionId}`)
      .set('Authorization', auth.trigger);
    expect(tooLate.status).toBe(409);
    const list = await get(`/v1/campaigns/${id}/executions?limit=1`);
    expect(list.body.items.map((e: { id: string }) => e.id)).toEqual([done2.body.executionId]);
    expect(
      (await get(`/v1/campaigns/${id}/executions?cursor=${list.body.nextCursor}`)).body.items[0].id,
    ).toBe(later.body.executionId);
  });

  it('stop (cancel) during a stream of calls: nothing leaves after it returns, later calls get 409, the receipt adds up', async () => {
    const slow = await startWebhookReceiver({ delayMs: 50 });
    try {
      const { ids } = await createAudience(stack.pool, 5);
      const id = await liveCampaign({
        category: 'transactional',
        channel: 'webhook',
        content: { url: slow.url, body: 'n={{context.n}}' },
      });
      let streaming = true;
      const statuses: number[] = [];
      const stream = (async () => {
        for (let n = 0; streaming; n++) {
          const res = await post(`/v1/campaigns/${id}/trigger`, {
            context: { n },
            recipients: ids.map((profileId) => ({ profileId })),
          });
          statuses.push(res.status);
        }
      })();
      await until('a stream delivering', () => slow.received.length >= 30, 30_000);
      const stop = await post(`/v1/campaigns/${id}/stop`, { mode: 'cancel' }, 'publisher');
      const returnedAt = Date.now();
      streaming = false;
      await stream;
      expect(stop.status).toBe(200);
      expect(
        (await post(`/v1/campaigns/${id}/trigger`, { recipients: [{ profileId: ids[0] }] })).body.code,
      ).toBe('CAMPAIGN_NOT_LIVE');
      expect(new Set(statuses)).toEqual(new Set([202, 409]));
      // The dispatcher has ended: nothing is left to send.
      const handle = stack.client.workflow.getHandle(campaignWorkflowId(id));
      await until(
        'dispatcher ended',
        async () => ((await handle.describe()).raw.pendingActivities?.length ?? 0) === 0,
        30_000,
      );
      expect(slow.received.filter((r) => r.at > returnedAt)).toEqual([]);
      const { rows } = await stack.pool.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM execution_messages WHERE campaign_id = $1 GROUP BY status`,
        [id],
      );
      const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      expect(by.queued).toBeUndefined();
      expect(by.cancelled).toBeGreaterThan(0); // calls outpaced the slow receiver: the stop found a queue
      expect(by.delivered).toBe(slow.hits.size);
      expect(slow.duplicates()).toEqual([]);
      expect(stop.body.receipt.triggered).toMatchObject({ cancelled: by.cancelled ?? 0 });
      const open = await stack.pool.query(
        `SELECT 1 FROM executions WHERE campaign_id = $1 AND status IN ('accepted', 'in_progress')`,
        [id],
      );
      expect(open.rowCount).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('a message a receiver refuses for now is retried on its own back-off; the queue behind it goes on', async () => {
    // 503 for the first 6 requests for profile `flaky` (the sender's own 5 tries, then one more), 200
    // for everything else.
    const hits = new Map<string, number>();
    let flaky = '';
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        const recipient = (JSON.parse(body) as { recipient: string }).recipient;
        hits.set(recipient, (hits.get(recipient) ?? 0) + 1);
        res.writeHead(recipient === flaky && hits.get(recipient)! <= 6 ? 503 : 200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { ids } = await createAudience(stack.pool, 2);
      flaky = ids[0];
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const id = await liveCampaign({ category: 'transactional', channel: 'webhook', content: { url } });
      const first = await post(`/v1/campaigns/${id}/trigger`, { recipients: [{ profileId: ids[0] }] });
      const second = await post(`/v1/campaigns/${id}/trigger`, { recipients: [{ profileId: ids[1] }] });
      const behind = await finished(second.body.executionId);
      const retried = await finished(first.body.executionId);
      expect([behind.status, retried.outcomes[0].status]).toEqual(['succeeded', 'delivered']);
      // The message behind the refused one did not wait for its retry.
      expect(Date.parse(behind.finishedAt)).toBeLessThan(Date.parse(retried.finishedAt));
      const { rows } = await stack.pool.query(
        `SELECT attempts FROM execution_messages WHERE execution_id = $1`,
        [first.body.executionId],
      );
      expect(rows[0].attempts).toBe(1);
      expect(hits.get(flaky)).toBe(7);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports count executions: per execution, equal to its message rows', async () => {
    const { audienceId } = await createAudience(stack.pool, 3, (i) => ({ subscribed: i !== 2 }));
    const id = await liveCampaign({
      category: 'marketing',
      channel: 'email',
      content: { sender: 'news@shop.example', subject: 'Hi', body: 'Hello {{firstName}}' },
      audience: { audienceId },
    });
    const executions: string[] = [];
    for (let i = 0; i < 2; i++)
      executions.push((await post(`/v1/campaigns/${id}/trigger`, {})).body.executionId);
    for (const e of executions) await finished(e);
    const report = (await get(`/v1/campaigns/${id}/report/global`)).body;
    expect(report.figures).toMatchObject({ sent: 4, excluded: 2 });
    expect(
      report.bySource.map((s: { kind: string; id: string; figures: { sent: number; excluded: number } }) => [
        s.kind,
        s.id,
        s.figures.sent,
        s.figures.excluded,
      ]),
    ).toEqual(expect.arrayContaining(executions.map((e) => ['execution', e, 2, 1])));
    // A provider reports a hard bounce of a triggered message by its Message-ID: recorded, suppressed.
    const bounced = await post(
      '/v1/events',
      {
        events: [
          { type: 'bounced', bounce: 'hard', messageId: `<${executions[0]}:0@campaign-orchestrator>` },
        ],
      },
      'publisher',
    );
    expect(bounced.body).toEqual({ recorded: 1, unknown: [] });
    const [first] = (await get(`/v1/executions/${executions[0]}`)).body.outcomes;
    expect(
      (await stack.prisma.profile.findUniqueOrThrow({ where: { id: first.profileId } })).subscribed,
    ).toBe(false);
    const after = (await get(`/v1/campaigns/${id}/report/global`)).body;
    const source = after.bySource.find((s: { id: string }) => s.id === executions[0]);
    expect(source.figures).toMatchObject({ sent: 2, bouncedHard: 1, delivered: 1 });
  });

  it('drain lets accepted executions finish, then takes no call', async () => {
    const slow = await startWebhookReceiver({ delayMs: 30 });
    try {
      const { ids } = await createAudience(stack.pool, 20);
      const id = await liveCampaign({
        category: 'transactional',
        channel: 'webhook',
        content: { url: slow.url },
      });
      const calls = await Promise.all(
        [0, 1, 2].map(() =>
          post(`/v1/campaigns/${id}/trigger`, { recipients: ids.map((profileId) => ({ profileId })) }),
        ),
      );
      const stop = await post(`/v1/campaigns/${id}/stop`, { mode: 'drain' }, 'publisher');
      expect(stop.body.receipt.triggered).toMatchObject({ cancelled: 0 });
      expect(
        (await post(`/v1/campaigns/${id}/trigger`, { recipients: [{ profileId: ids[0] }] })).status,
      ).toBe(409);
      for (const call of calls) expect((await finished(call.body.executionId)).counts.delivered).toBe(20);
      expect(slow.hits.size).toBe(60);
    } finally {
      await slow.close();
    }
  });

  it('a call accepted while no worker runs is sent once one starts (202 means durable)', async () => {
    const taskQueue = uniqueTaskQueue('trig-durable');
    const connection = await NativeConnection.connect({ address: testTemporalAddress() });
    const isolated = testApp(stack, { taskQueue });
    const call = (path: string, body: object, role: string) =>
      request(isolated).post(path).set('Authorization', auth[role]).send(body);
    let worker = await runTestWorker({ connection, taskQueue, prisma: stack.prisma });
    try {
      const created = await call(
        '/v1/campaigns',
        {
          name: 'd',
          type: 'api_triggered',
          category: 'transactional',
          channel: 'sms',
          content: { body: 'hi' },
        },
        'editor',
      );
      await call(`/v1/campaigns/${created.body.id}/activate`, {}, 'publisher').expect(200);
      await worker.stop();
      const accepted = await call(
        `/v1/campaigns/${created.body.id}/trigger`,
        { recipients: [{ phone: '+33612' }] },
        'trigger',
      );
      expect(accepted.status).toBe(202);
      expect((await get(`/v1/executions/${accepted.body.executionId}`)).body.status).toBe('accepted');
      worker = await runTestWorker({ connection, taskQueue, prisma: stack.prisma });
      expect((await finished(accepted.body.executionId)).counts.sent).toBe(1);
    } finally {
      await worker.stop();
      await connection.close();
    }
  });

  it('callbackUrl: one signed POST per recipient outcome', async () => {
    const hooks = await startWebhookReceiver();
    try {
      const id = await liveCampaign({ category: 'transactional', channel: 'sms', content: { body: 'hi' } });
      const res = await post(`/v1/campaigns/${id}/trigger`, {
        callbackUrl: hooks.url,
        recipients: [{ phone: '+331' }, { phone: '+332' }],
      });
      await finished(res.body.executionId);
      await until('both callbacks received', () => hooks.hits.size === 2, 30_000);
      expect([...hooks.hits.keys()].sort()).toEqual([
        `${res.body.executionId}:0:outcome`,
        `${res.body.executionId}:1:outcome`,
      ]);
      expect(hooks.duplicates()).toEqual([]);
    } finally {
      await hooks.close();
    }
  });

  it('a stream of 300 calls adds no history per call; operators see the totals', async () => {
    const id = await liveCampaign({ category: 'transactional', channel: 'sms', content: { body: 'hi' } });
    const handle = stack.client.workflow.getHandle(campaignWorkflowId(id));
    const before = (await handle.describe()).historyLength;
    const calls = Array.from({ length: 300 }, (_, n) => n);
    for (let i = 0; i < calls.length; i += 20) {
      await Promise.all(
        calls
          .slice(i, i + 20)
          .map((n) =>
            post(`/v1/campaigns/${id}/trigger`, { recipients: [{ phone: `+33${n}` }] }).expect(202),
          ),
      );
    }
    await until(
      'every message recorded',
      async () =>
        (
          await stack.pool.query(
            `SELECT 1 FROM execution_messages WHERE campaign_id = $1 AND status = 'sent'`,
            [id],
          )
        ).rowCount === 300,
      30_000,
    );
    // Operators see the totals in the campaign's current details once the dispatcher reports.
    await until(
      'the operator card shows the totals',
      async () => {
        const card = (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata'))
          .currentDetails;
        return /\*\*triggered:\*\* 300 execution\(s\) finished, 300 message\(s\) sent; last: `[0-9a-f-]{36}` on v1/.test(
          card,
        );
      },
      30_000,
    );
    const grown = (await handle.describe()).historyLength - before;
    // A wake-up costs a signal, an activity and their workflow tasks (about ten events), not one per call.
    expect(grown).toBeLessThan(40);
  });

  it('429 with Retry-After once a key exceeds its rate', async () => {
    const limited = testApp(stack, { triggerRateLimit: 2 });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await request(limited)
        .post(`/v1/campaigns/${randomUUID()}/trigger`)
        .set('Authorization', auth.trigger)
        .send({ recipients: [{ phone: '+33600000000' }] });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers['retry-after'];
    }
    expect(statuses).toContain(404); // within the rate: the call goes through (no such campaign)
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});
