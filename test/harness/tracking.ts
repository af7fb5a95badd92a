/**
 * A stack for the tracking and report suites: a real local SMTP server, a worker with tracking
 * settings, the Express app with the same keys, viewer and publisher keys, and helpers to send an
 * email campaign, sign a token and read both reports.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import request from 'supertest';
import { testApp } from './api';
import { createApiKey } from '../../api/auth';
import type { Role } from '../../api/schemas';
import { signToken, type TrackingRef } from '../../runtime/tracking-tokens';
import type { campaignWorkflow } from '../../workflows/campaign';
import { activateUpdate, campaignWorkflowId, projectedUpdate } from '../../workflows/messages';
import { createAudience, until } from './campaigns';
import { startSmtpCapture } from './receivers';
import { startDevStack, testDatabaseUrl, type DevStack } from './stack';

export const tracking = {
  baseUrl: 'https://t.example',
  keys: { current: 'reports-test-key-0123', previous: 'reports-old-key-01234' },
};
export const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

export type TrackingStack = Awaited<ReturnType<typeof startTrackingStack>>;

export async function startTrackingStack(prefix: string) {
  const smtp = await startSmtpCapture();
  const { received, port } = smtp;
  const stack: DevStack = await startDevStack(prefix, {
    smtp: { host: '127.0.0.1', port, allowInsecure: true },
    tracking,
  });
  const pool = new Pool({ connectionString: testDatabaseUrl(), max: 3 });
  const app = testApp(stack, { tracking });
  const keys = {} as Record<Role, string>;
  for (const role of ['viewer', 'editor', 'publisher'] as const) {
    keys[role] =
      `Bearer ${(await createApiKey(stack.prisma, `${role}-${randomUUID().slice(0, 6)}`, role)).key}`;
  }

  const report =
    (kind: 'live' | 'global') =>
    async (id: string, query = '') =>
      (
        await request(app)
          .get(`/v1/campaigns/${id}/report/${kind}${query}`)
          .set('Authorization', keys.viewer)
          .expect(200)
      ).body;

  /**
   * An email campaign of `n` recipients whose body has two links, sent through SMTP (to a new audience,
   * or to `audience`); waits until each recipient is sent or excluded.
   */
  async function sentCampaign(n: number, audience?: { audienceId: string; ids: string[] }) {
    const { audienceId, ids } = audience ?? (await createAudience(pool, n));
    const id = randomUUID();
    const handle = await stack.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(id),
      taskQueue: stack.taskQueue,
      args: [
        {
          create: {
            campaignId: id,
            name: 'tracked',
            type: 'scheduled',
            channel: 'email',
            content: {
              sender: 'news@shop.example',
              subject: 'Hi {{firstName}}',
              body: 'Sale: https://shop.example/sale?x=1 and https://shop.example/faq.',
            },
            audience: { audienceId },
            requestId: 'c',
            actor: 'tester',
          },
        },
      ],
    });
    await handle.executeUpdate(projectedUpdate);
    await handle.executeUpdate(activateUpdate, { args: [{ requestId: 'a', actor: 'tester' }] });
    await until(
      'run sent',
      async () =>
        (
          await pool.query(
            `SELECT 1 FROM messages WHERE campaign_id = $1 AND status IN ('sent', 'excluded')`,
            [id],
          )
        ).rowCount === n,
      60_000,
    );
    const { rows } = await pool.query<{
      profile_id: string;
      status: string;
      reason: string | null;
      rendered: Record<string, string>;
    }>(
      `SELECT profile_id, status, reason, rendered FROM messages WHERE campaign_id = $1 ORDER BY profile_id`,
      [id],
    );
    return { id, ids, audienceId, messages: rows };
  }

  return {
    app,
    pool,
    keys,
    /** Raw emails the SMTP server received. */
    received,
    sentCampaign,
    live: report('live'),
    global: report('global'),
    eventCount: async (id: string): Promise<number> =>
      (await pool.query(`SELECT count(*)::int AS n FROM tracking_events WHERE campaign_id = $1`, [id]))
        .rows[0].n,
    /** A token of a message, as if sent a minute ago (so a click is not "too soon"). */
    token: (ref: Omit<TrackingRef, 'sentAt'>, key = tracking.keys.current) =>
      signToken({ current: key }, { ...ref, sentAt: Date.now() - 60_000 }),
    async stop() {
      await stack.stop();
      await pool.end();
      await smtp.close();
    },
  };
}
