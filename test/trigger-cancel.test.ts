/**
 * Cancelling what a trigger call started, on the real stack (Temporal dev server, PostgreSQL, a real
 * worker, webhook receivers), through the HTTP API: `DELETE /v1/executions/:id` either stops every
 * message not yet sent (and nothing reaches the receiver after its answer) or is refused with 409
 * because the execution had finished; and what a campaign's `cancel` stop leaves behind (outcome
 * callbacks of delivered messages, marketing executions that came due).
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { createApp } from '../api/app';
import { createApiKey } from '../api/auth';
import { testApp } from './harness/api';
import { createAudience, until } from './harness/campaigns';
import { startWebhookReceiver, type WebhookReceiver } from './harness/receivers';
import { startDevStack, type DevStack } from './harness/stack';
import { campaignWorkflowId } from '../workflows/messages';

interface Execution {
  id: string;
  status: string;
  counts: Record<string, number>;
}

describe('cancelling triggered executions', () => {
  let stack: DevStack;
  let app: ReturnType<typeof createApp>;
  const auth: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startDevStack('trigger-cancel');
    app = testApp(stack, { webhookAllowPrivate: true });
    for (const role of ['editor', 'publisher', 'trigger', 'viewer'] as const) {
      auth[role] =
        `Bearer ${(await createApiKey(stack.prisma, `${role}-${randomUUID().slice(0, 6)}`, role)).key}`;
    }
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const post = (path: string, body: object, role = 'trigger') =>
    request(app).post(path).set('Authorization', auth[role]).send(body);
  const get = (path: string) => request(app).get(path).set('Authorization', auth.viewer);
  const cancel = (id: string) =>
    request(app).delete(`/v1/executions/${id}`).set('Authorization', auth.trigger);

  async function liveCampaign(body: object): Promise<string> {
    const created = await post('/v1/campaigns', { name: 'cancel', type: 'api_triggered', ...body }, 'editor');
    expect(created.status).toBe(201);
    expect((await post(`/v1/campaigns/${created.body.id}/activate`, {}, 'publisher')).status).toBe(200);
    return created.body.id as string;
  }

  /** Every execution of the campaign has finished (none accepted or in progress). */
  async function allFinished(campaignId: string) {
    await until(
      'every execution finished',
      async () =>
        (
          await stack.pool.query(
            `SELECT 1 FROM executions WHERE campaign_id = $1 AND status IN ('accepted', 'in_progress')`,
            [campaignId],
          )
        ).rowCount === 0,
      60_000,
    );
  }

  /** An execution's counts by status, from its message rows. */
  async function messageCounts(executionId: string): Promise<Record<string, number>> {
    const { rows } = await stack.pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM execution_messages WHERE execution_id = $1 GROUP BY status`,
      [executionId],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /**
   * What a cancel must guarantee: a 200 is `cancelled`, stays so, and nothing of it reached the
   * receiver after the answer; its counts then and now match its message rows. A 409 says it had
   * finished. Returns the final execution.
   */
  async function checkCancel(
    receiver: WebhookReceiver,
    executionId: string,
    answer: request.Response,
    answeredAt: number,
  ): Promise<Execution> {
    const final = (await get(`/v1/executions/${executionId}`)).body as Execution;
    const rows = await messageCounts(executionId);
    for (const status of ['sent', 'delivered', 'failed', 'excluded', 'cancelled']) {
      expect([status, final.counts[status]]).toEqual([status, rows[status] ?? 0]);
    }
    expect(rows.queued).toBeUndefined();
    if (answer.status === 200) {
      expect(answer.body.status).toBe('cancelled');
      expect(final.status).toBe('cancelled');
      expect(answer.body.counts).toEqual(final.counts);
      const late = receiver.received.filter((r) => r.key.startsWith(executionId) && r.at > answeredAt);
      expect(late).toEqual([]);
    } else {
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'EXECUTION_FINISHED' });
      expect(answer.body.detail).toMatch(/finished/);
      expect(['succeeded', 'partially_failed', 'failed']).toContain(final.status);
    }
    return final;
  }

  it('20 calls of 50 recipients, each cancelled right after its 202: cancelled means nothing more leaves', async () => {
    const receiver = await startWebhookReceiver({ delayMs: 5 });
    try {
      const { ids } = await createAudience(stack.pool, 50);
      const id = await liveCampaign({
        category: 'transactional',
        channel: 'webhook',
        content: { url: receiver.url, body: 'n={{context.n}}' },
      });
      const calls = await Promise.all(
        Array.from({ length: 20 }, async (_, n) => {
          const accepted = await post(`/v1/campaigns/${id}/trigger`, {
            context: { n },
            recipients: ids.map((profileId) => ({ profileId })),
          });
          expect(accepted.status).toBe(202);
          const answer = await cancel(accepted.body.executionId);
          return { executionId: accepted.body.executionId as string, answer, answeredAt: Date.now() };
        }),
      );
      await allFinished(id);
      const finals = [];
      for (const c of calls) finals.push(await checkCancel(receiver, c.executionId, c.answer, c.answeredAt));
      expect(calls.filter((c) => c.answer.status === 200).length).toBeGreaterThan(0);
      expect(receiver.duplicates()).toEqual([]);
      // The receiver got exactly what the executions count as delivered.
      expect(finals.reduce((n, e) => n + e.counts.delivered, 0)).toBe(receiver.hits.size);
    } finally {
      await receiver.close();
    }
  });

  it('a cancel during a batch in flight waits for it: that batch counted sent, the rest cancelled', async () => {
    const receiver = await startWebhookReceiver({ delayMs: 200 });
    try {
      const { ids } = await createAudience(stack.pool, 120);
      const id = await liveCampaign({
        category: 'transactional',
        channel: 'webhook',
        content: { url: receiver.url, body: 'hi' },
      });
      const accepted = await post(`/v1/campaigns/${id}/trigger`, {
        recipients: ids.map((profileId) => ({ profileId })),
      });
      const executionId = accepted.body.executionId as string;
      // The first batch (50 messages, 10 at a time, 200 ms each) is in flight.
      await until('a batch sending', () => receiver.received.length > 0, 30_000);
      const answer = await cancel(executionId);
      const answeredAt = Date.now();
      expect(answer.status).toBe(200);
      expect(answer.body.counts).toMatchObject({ delivered: 50, cancelled: 70, queued: 0 });
      await allFinished(id);
      await checkCancel(receiver, executionId, answer, answeredAt);
      expect(receiver.hits.size).toBe(50);
    } finally {
      await receiver.close();
    }
  });

  it('a marketing execution cancelled once started at its executeAt stops there; a finished one is 409', async () => {
    const receiver = await startWebhookReceiver({ delayMs: 50 });
    try {
      const { audienceId } = await createAudience(stack.pool, 200);
      const id = await liveCampaign({
        category: 'marketing',
        channel: 'webhook',
        content: { url: receiver.url, body: 'hi {{firstName}}' },
        audience: { audienceId },
      });
      const executeAt = new Date(Date.now() + 1500).toISOString();
      const due = await post(`/v1/campaigns/${id}/trigger`, { executeAt });
      expect(due.status).toBe(202);
      const executionId = due.body.executionId as string;
      await until(
        'the execution sending',
        () => receiver.received.some((r) => r.key.startsWith(executionId)),
        30_000,
      );
      const answer = await cancel(executionId);
      const answeredAt = Date.now();
      expect(answer.status).toBe(200);
      await allFinished(id);
      const final = await checkCancel(receiver, executionId, answer, answeredAt);
      expect(final.counts.cancelled).toBeGreaterThan(0);
      expect(final.counts.delivered).toBeGreaterThan(0);
      // Cancelling again answers the same; a finished execution cannot be cancelled.
      expect((await cancel(executionId)).body).toMatchObject({ status: 'cancelled', counts: final.counts });
      const small = await createAudience(stack.pool, 2);
      const now = await post(`/v1/campaigns/${id}/trigger`, { audience: { audienceId: small.audienceId } });
      await allFinished(id);
      const late = await cancel(now.body.executionId);
      await checkCancel(receiver, now.body.executionId, late, Date.now());
      expect(late.status).toBe(409);
    } finally {
      await receiver.close();
    }
  });

  it('a cancel stop sends (or finally fails) the outcome callbacks of delivered messages', async () => {
    let down = true;
    const hooks = await startWebhookReceiver({ status: () => (down ? 503 : 200) });
    try {
      const id = await liveCampaign({ category: 'transactional', channel: 'sms', content: { body: 'hi' } });
      const res = await post(`/v1/campaigns/${id}/trigger`, {
        callbackUrl: hooks.url,
        recipients: [{ phone: '+331' }, { phone: '+332' }, { phone: '+333' }],
      });
      expect(res.status).toBe(202);
      await allFinished(id);
      // Every callback tried once and refused for now: each waits for its retry.
      await until('callbacks refused once', () => hooks.hits.size === 3, 30_000);
      down = false;
      const stop = await post(`/v1/campaigns/${id}/stop`, { mode: 'cancel' }, 'publisher');
      expect(stop.status).toBe(200);
      await until(
        'no callback pending',
        async () =>
          (
            await stack.pool.query(
              `SELECT 1 FROM execution_messages WHERE campaign_id = $1 AND callback = 'pending'`,
              [id],
            )
          ).rowCount === 0,
        15_000,
      );
      expect([...hooks.delivered.keys()].sort()).toEqual(
        [0, 1, 2].map((n) => `${res.body.executionId}:${n}:outcome`),
      );
    } finally {
      await hooks.close();
    }
  });

  it('a cancel stop cancels a marketing execution that came due before its dispatcher got to it', async () => {
    // Its due time is moved into the past in SQL once the dispatcher is idle (its timer is an hour
    // away): a due execution the dispatcher has not got to yet (busy, or its worker down).
    const { audienceId } = await createAudience(stack.pool, 3);
    const market = await liveCampaign({
      category: 'marketing',
      channel: 'sms',
      content: { body: 'sale' },
      audience: { audienceId },
    });
    const later = await post(`/v1/campaigns/${market}/trigger`, {
      executeAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(later.status).toBe(202);
    const handle = stack.client.workflow.getHandle(campaignWorkflowId(market));
    await until(
      'the dispatcher idle',
      async () =>
        (
          await stack.pool.query(
            `SELECT 1 FROM campaign_triggers WHERE campaign_id = $1 AND wake_at IS NULL`,
            [market],
          )
        ).rowCount === 1 && ((await handle.describe()).raw.pendingActivities?.length ?? 0) === 0,
      30_000,
    );
    await stack.pool.query(`UPDATE executions SET execute_at = now() - interval '1 second' WHERE id = $1`, [
      later.body.executionId,
    ]);
    expect((await post(`/v1/campaigns/${market}/stop`, { mode: 'cancel' }, 'publisher')).status).toBe(200);
    expect((await get(`/v1/executions/${later.body.executionId}`)).body).toMatchObject({
      status: 'cancelled',
      accepted: 0,
    });
  });
});
