/**
 * Tracking and reports on the real stack (dev server, worker with tracking and a real local SMTP
 * server, PostgreSQL, the Express app): an email run carries the pixel, tracked links and RFC 8058
 * headers; opens, clicks and unsubscribes are recorded with their flags and show in both reports
 * within 5 s; bounces suppress; report figures equal the message rows, split per version and run.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import request from 'supertest';
import { createApp } from '../api/app';
import { createApiKey } from '../api/auth';
import type { Role } from '../api/schemas';
import type { campaignWorkflow } from '../workflows/campaign';
import { activateUpdate, campaignWorkflowId, projectedUpdate } from '../workflows/messages';
import { signToken, verifyToken, type TrackingRef } from '../runtime/tracking-tokens';
import { createAudience, until } from './harness/campaigns';
import { startDevStack, testDatabaseUrl, type DevStack } from './harness/stack';

const tracking = {
  baseUrl: 'https://t.example',
  keys: { current: 'reports-test-key-0123', previous: 'reports-old-key-01234' },
};
const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

describe('tracking and reports on the real stack', () => {
  let stack: DevStack;
  let pool: Pool;
  let smtp: SMTPServer;
  let app: ReturnType<typeof createApp>;
  const received: string[] = [];
  const keys = {} as Record<Role, string>;

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
    const port = (smtp.server.address() as AddressInfo).port;
    stack = await startDevStack('reports', {
      smtp: { host: '127.0.0.1', port, allowInsecure: true },
      tracking,
    });
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 3 });
    app = createApp({
      client: stack.client,
      prisma: stack.prisma,
      taskQueue: stack.taskQueue,
      logger: pino({ level: 'silent' }),
      tracking,
    });
    for (const role of ['viewer', 'publisher'] as const) {
      keys[role] =
        `Bearer ${(await createApiKey(stack.prisma, `${role}-${randomUUID().slice(0, 6)}`, role)).key}`;
    }
  });

  afterAll(async () => {
    await stack?.stop();
    await pool?.end();
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  });

  const live = async (id: string, query = '') =>
    (
      await request(app)
        .get(`/v1/campaigns/${id}/report/live${query}`)
        .set('Authorization', keys.viewer)
        .expect(200)
    ).body;
  const global = async (id: string, query = '') =>
    (
      await request(app)
        .get(`/v1/campaigns/${id}/report/global${query}`)
        .set('Authorization', keys.viewer)
        .expect(200)
    ).body;
  const eventCount = async (id: string) =>
    (await pool.query(`SELECT count(*)::int AS n FROM tracking_events WHERE campaign_id = $1`, [id])).rows[0]
      .n;

  /** An email campaign of `n` recipients whose body has two links, sent through SMTP; waits for its run. */
  async function sentCampaign(n: number) {
    const { audienceId, ids } = await createAudience(pool, n);
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
        (await pool.query(`SELECT 1 FROM messages WHERE campaign_id = $1 AND status = 'sent'`, [id]))
          .rowCount === n,
      60_000,
    );
    const { rows } = await pool.query<{ profile_id: string; rendered: Record<string, string> }>(
      `SELECT profile_id, rendered FROM messages WHERE campaign_id = $1 ORDER BY profile_id`,
      [id],
    );
    return { id, ids, messages: rows };
  }

  /** A token of the recipient's message, as if sent a minute ago (so a click is not "too soon"). */
  const token = (ref: Omit<TrackingRef, 'sentAt'>, key = tracking.keys.current) =>
    signToken({ current: key }, { ...ref, sentAt: Date.now() - 60_000 });

  it('sends the pixel, tracked links and List-Unsubscribe headers; records opens and clicks with their flags', async () => {
    const { id, ids, messages } = await sentCampaign(3);
    // Headers unfolded (long ones are wrapped onto indented lines).
    const mail = received.find((raw) => raw.includes(`${id}:1:${ids[0]}`))!.replace(/\r?\n[ \t]+/g, ' ');
    expect(mail).toMatch(/^List-Unsubscribe:\s+<https:\/\/t\.example\/t\/u\/[\w.-]+>\r?$/m);
    expect(mail).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    expect(mail).toMatch(/Content-Type: text\/html/);

    const first = messages[0].rendered;
    const pixel = /\/t\/o\/([\w.-]+)/.exec(first.html)![1];
    const links = [...first.body.matchAll(/\/t\/c\/([\w.-]+)/g)].map((m) => m[1]);
    expect(links.map((t) => verifyToken(tracking.keys, t)?.url)).toEqual([
      'https://shop.example/sale?x=1',
      'https://shop.example/faq',
    ]);

    // Opens: a person twice (unique once), Apple MPP once.
    for (const ua of [CHROME, CHROME, 'Mozilla/5.0']) {
      const res = await request(app).get(`/t/o/${pixel}`).set('User-Agent', ua).expect(200);
      expect(res.headers['content-type']).toBe('image/gif');
    }
    // Clicks: a person on link 1 (a token signed with the previous key: rotation), a scanner.
    const base = { campaignId: id, version: 1, source: 'run' as const, sourceId: '1', recipient: ids[1] };
    const click = token(
      { ...base, kind: 'c', link: 1, url: 'https://shop.example/faq' },
      tracking.keys.previous,
    );
    const res = await request(app).get(`/t/c/${click}?url=https://evil.example`).set('User-Agent', CHROME);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://shop.example/faq');
    await request(app)
      .get(`/t/c/${links[0]}`)
      .set('User-Agent', 'Mozilla/5.0 (compatible; Barracuda)')
      .expect(302);

    // Refused: altered, foreign, or of another kind; nothing recorded for them.
    const before = await eventCount(id);
    const [payload, mac] = click.split('.');
    await request(app).get(`/t/c/${payload}x.${mac}`).expect(404);
    await request(app)
      .get(`/t/c/${token({ ...base, kind: 'c', link: 0, url: 'https://x.example' }, 'not-our-key-0123456')}`)
      .expect(404);
    await request(app).get(`/t/c/${pixel}`).expect(404);
    await request(app).get(`/t/o/${click}`).expect(404);
    expect(await eventCount(id)).toBe(before);

    const report = await live(id);
    expect(report.figures).toMatchObject({
      targeted: 3,
      sent: 3,
      delivered: 3,
      opened: 2,
      uniqueOpened: 1,
      machineOpened: 1,
      clicked: 1,
      uniqueClicked: 1,
      botClicked: 1,
    });
    expect(report.reasons.machineOpened).toEqual({ apple_mpp: 1 });
    expect(report.reasons.botClicked).toEqual({ known_scanner: 1 });
    expect(report.links).toEqual([{ link: 1, clicked: 1, uniqueClicked: 1 }]);
    expect(report.rates).toEqual({ delivery: 1, uniqueOpen: 0.3333, uniqueClick: 0.3333, clickToOpen: 1 });
    expect((await global(id)).figures).toEqual(report.figures);
  });

  it('shows an event in both reports within 5 s', async () => {
    const { id, ids } = await sentCampaign(1);
    const pixel = token({
      kind: 'o',
      campaignId: id,
      version: 1,
      source: 'run',
      sourceId: '1',
      recipient: ids[0],
    });
    await request(app).get(`/t/o/${pixel}`).set('User-Agent', CHROME).expect(200);
    const t = Date.now();
    await until(
      'the open in both reports',
      async () =>
        (await live(id)).figures.uniqueOpened === 1 && (await global(id)).figures.uniqueOpened === 1,
      5_000,
    );
    expect(Date.now() - t).toBeLessThan(5_000);
  });

  it('one-click unsubscribe: a GET asks, a POST sets consent off and counts once', async () => {
    const { id, ids, messages } = await sentCampaign(2);
    const url = messages[0].rendered.listUnsubscribe;
    const path = new URL(url).pathname;
    expect((await request(app).get(path).expect(200)).text).toMatch(/<form method="post">/);
    const profile = async () =>
      (await pool.query(`SELECT subscribed FROM profiles WHERE id = $1`, [ids[0]])).rows[0].subscribed;
    expect(await profile()).toBe(true);
    for (let i = 0; i < 2; i++) {
      await request(app).post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
    }
    expect(await profile()).toBe(false);
    expect((await live(id)).figures.unsubscribed).toBe(1);
  });

  it('bounces and complaints: a hard bounce or a complaint suppresses; a soft one does not; late ones land on their day', async () => {
    const { id, ids } = await sentCampaign(3);
    const post = (events: object[], role: Role = 'publisher') =>
      request(app).post('/v1/events').set('Authorization', keys[role]).send({ events });
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    const res = await post([
      {
        type: 'bounced',
        bounce: 'hard',
        messageId: `<${id}:1:${ids[0]}@campaign-orchestrator>`,
        at: threeDaysAgo.toISOString(),
      },
      { type: 'bounced', bounce: 'soft', messageId: `${id}:1:${ids[1]}` },
      { type: 'complained', messageId: `${id}:1:${ids[2]}` },
      { type: 'complained', messageId: `${id}:9:${ids[2]}` },
    ]).expect(200);
    expect(res.body).toEqual({ recorded: 3, unknown: [`${id}:9:${ids[2]}`] });
    const { rows } = await pool.query(`SELECT id, subscribed FROM profiles WHERE id = ANY($1) ORDER BY id`, [
      ids,
    ]);
    expect(rows.map((r) => r.subscribed)).toEqual([false, true, false]);

    const day = threeDaysAgo.toISOString().slice(0, 10);
    const thatDay = await global(id, `?from=${day}&to=${day}`);
    expect(thatDay.figures).toMatchObject({ bouncedHard: 1, bouncedSoft: 0, complained: 0, sent: 0 });
    expect(thatDay.series).toEqual([expect.objectContaining({ at: `${day}T00:00:00.000Z` })]);
    expect((await global(id)).figures).toMatchObject({
      sent: 3,
      delivered: 2,
      bouncedHard: 1,
      bouncedSoft: 1,
      complained: 1,
    });

    const bad = await post([{ type: 'bounced', bounce: 'hard', messageId: 'nope' }]).expect(400);
    expect(bad.body.errors).toEqual([{ field: 'events.0.messageId', message: expect.any(String) }]);
    const noType = await post([{ type: 'bounced', messageId: `${id}:1:${ids[0]}` }]).expect(400);
    expect(noType.body.errors[0].field).toBe('events.0.bounce');
    await post([{ type: 'complained', messageId: `${id}:1:${ids[0]}` }], 'viewer').expect(403);
  });

  it('report figures equal the message rows, per version and per run; compare=1,2; CSV', async () => {
    const created = await request(app)
      .post('/v1/campaigns')
      .set('Authorization', `Bearer ${(await createApiKey(stack.prisma, 'ed', 'editor')).key}`)
      .send({ name: `rows-${randomUUID().slice(0, 6)}`, channel: 'sms', content: { body: 'Hi' } })
      .expect(201);
    const id = created.body.id;
    // Two runs of two versions, written as delivery writes them (several statements, late rows).
    const insert = (
      run: number,
      version: number,
      status: string,
      n: number,
      reason: string | null,
      ago = 0,
    ) =>
      pool.query(
        `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason, sent_at)
         SELECT $1, $2::int, 'p' || $2::int || '-' || $4::text || '-' || (g + $7::int * 1000), $3::int, $4::text, $5::text,
                CASE WHEN $4::text IN ('sent', 'delivered', 'failed') THEN now() - make_interval(mins => $7::int) END
           FROM generate_series(1, $6) g`,
        [id, run, version, status, reason, n, ago],
      );
    await insert(1, 1, 'sent', 50, null);
    await insert(1, 1, 'sent', 20, null, 90);
    await insert(1, 1, 'failed', 3, 'HTTP 400 Bad Request');
    await insert(1, 1, 'excluded', 5, 'unsubscribed');
    await insert(2, 2, 'sent', 40, null);
    await insert(2, 2, 'excluded', 2, 'no phone number');
    await insert(2, 2, 'cancelled', 7, 'campaign stopped');
    for (const [run, version, recipient] of [
      [1, 1, 'p1-sent-1'],
      [2, 2, 'p2-sent-1'],
      [2, 2, 'p2-sent-2'],
    ] as const) {
      const c = token({
        kind: 'c',
        campaignId: id,
        version,
        source: 'run',
        sourceId: String(run),
        recipient,
        link: 0,
        url: 'https://a.example',
      });
      await request(app).get(`/t/c/${c}`).set('User-Agent', CHROME).expect(302);
    }

    const { rows } = await pool.query<{
      run_number: number;
      version: number;
      status: string;
      reason: string | null;
      n: number;
    }>(
      `SELECT run_number, version, status, reason, count(*)::int AS n FROM messages WHERE campaign_id = $1
       GROUP BY run_number, version, status, reason`,
      [id],
    );
    const count = (where: (r: (typeof rows)[number]) => boolean) =>
      rows.filter(where).reduce((sum, r) => sum + r.n, 0);
    const expected = (where: (r: (typeof rows)[number]) => boolean = () => true) => ({
      targeted: count(where),
      sent: count((r) => where(r) && ['sent', 'delivered'].includes(r.status)),
      failed: count((r) => where(r) && r.status === 'failed'),
      excluded: count((r) => where(r) && r.status === 'excluded'),
      cancelled: count((r) => where(r) && r.status === 'cancelled'),
    });
    for (const report of [await global(id), await live(id)]) {
      expect(report.figures).toMatchObject(expected());
      expect(
        report.byVersion.map((v: { version: number; figures: object }) => [v.version, v.figures]),
      ).toEqual([
        [1, expect.objectContaining({ ...expected((r) => r.version === 1), uniqueClicked: 1 })],
        [2, expect.objectContaining({ ...expected((r) => r.version === 2), uniqueClicked: 2 })],
      ]);
      expect(
        report.bySource.map((s: { kind: string; id: string; figures: object }) => [s.kind, s.id, s.figures]),
      ).toEqual([
        ['run', '1', expect.objectContaining(expected((r) => r.run_number === 1))],
        ['run', '2', expect.objectContaining(expected((r) => r.run_number === 2))],
      ]);
      expect(report.byChannel).toEqual([
        expect.objectContaining({ channel: 'sms', figures: report.figures }),
      ]);
      expect(report.reasons.excluded).toEqual({ unsubscribed: 5, 'no phone number': 2 });
      expect(report.reasons.failed).toEqual({ 'HTTP 400 Bad Request': 3 });
    }
    // The 20 rows sent 90 minutes ago sit in their own minute of the series.
    const series = (await live(id)).series;
    expect(series.reduce((sum: number, p: { figures: { sent: number } }) => sum + p.figures.sent, 0)).toBe(
      110,
    );
    expect(series.some((p: { figures: { sent: number } }) => p.figures.sent === 20)).toBe(true);

    const compared = (await global(id, '?compare=1,2')).comparison;
    expect(compared.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(compared.rateDelta.uniqueClick).toBeCloseTo(2 / 40 - 1 / 70, 4);

    const csv = await request(app)
      .get(`/v1/campaigns/${id}/report/global`)
      .set('Authorization', keys.viewer)
      .set('Accept', 'text/csv')
      .expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('section,key,at,figure,value');
    expect(lines).toContain(`totals,,,targeted,${expected().targeted}`);
    expect(lines).toContain('reason,failed,,HTTP 400 Bad Request,3');
    expect(lines).toContain('version,2,,sent,40');

    const invalid = await request(app)
      .get(`/v1/campaigns/${id}/report/global?from=2026-02-10&to=2026-02-01`)
      .set('Authorization', keys.viewer)
      .expect(400);
    expect(invalid.body.errors).toEqual([{ field: 'to', message: 'must not be before from' }]);
    const same = await request(app)
      .get(`/v1/campaigns/${id}/report/live?compare=2,2`)
      .set('Authorization', keys.viewer)
      .expect(400);
    expect(same.body.errors[0].field).toBe('compare');
  });
});
