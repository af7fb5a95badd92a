/**
 * Reports on the real stack: bounces and complaints (suppression, late ones on their day), and report
 * figures equal to the message rows, per version and per run, with `compare` and CSV.
 */
import request from 'supertest';
import type { Role } from '../api/schemas';
import { CHROME, startTrackingStack, type TrackingStack } from './harness/tracking';

const PREFIX = 'reports';

describe('reports on the real stack', () => {
  let t: TrackingStack;
  beforeAll(async () => {
    t = await startTrackingStack(PREFIX);
  });
  afterAll(() => t?.stop());

  it('bounces and complaints: a hard bounce or a complaint suppresses; a soft one does not; late ones land on their day', async () => {
    const { id, ids } = await t.sentCampaign(3);
    const post = (events: object[], role: Role = 'publisher') =>
      request(t.app).post('/v1/events').set('Authorization', t.keys[role]).send({ events });
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
    const { rows } = await t.pool.query(
      `SELECT id, subscribed FROM profiles WHERE id = ANY($1) ORDER BY id`,
      [ids],
    );
    expect(rows.map((r) => r.subscribed)).toEqual([false, true, false]);

    const day = threeDaysAgo.toISOString().slice(0, 10);
    const thatDay = await t.global(id, `?from=${day}&to=${day}`);
    expect(thatDay.figures).toMatchObject({ bouncedHard: 1, bouncedSoft: 0, complained: 0, sent: 0 });
    expect(thatDay.series).toEqual([expect.objectContaining({ at: `${day}T00:00:00.000Z` })]);
    expect((await t.global(id)).figures).toMatchObject({
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
    const created = await request(t.app)
      .post('/v1/campaigns')
      .set('Authorization', t.keys.editor)
      .send({ name: `rows-${Date.now()}`, channel: 'sms', content: { body: 'Hi' } })
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
      t.pool.query(
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
      const c = t.token({
        kind: 'c',
        campaignId: id,
        version,
        source: 'run',
        sourceId: String(run),
        recipient,
        link: 0,
        url: 'https://a.example',
      });
      await request(t.app).get(`/t/c/${c}`).set('User-Agent', CHROME).expect(302);
    }

    const { rows } = await t.pool.query<{
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
    for (const report of [await t.global(id), await t.live(id)]) {
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
    const series = (await t.live(id)).series;
    expect(series.reduce((sum: number, p: { figures: { sent: number } }) => sum + p.figures.sent, 0)).toBe(
      110,
    );
    expect(series.some((p: { figures: { sent: number } }) => p.figures.sent === 20)).toBe(true);

    const compared = (await t.global(id, '?compare=1,2')).comparison;
    expect(compared.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(compared.rateDelta.uniqueClick).toBeCloseTo(2 / 40 - 1 / 70, 4);

    const csv = await request(t.app)
      .get(`/v1/campaigns/${id}/report/global`)
      .set('Authorization', t.keys.viewer)
      .set('Accept', 'text/csv')
      .expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('section,key,at,figure,value');
    expect(lines).toContain(`totals,,,targeted,${expected().targeted}`);
    expect(lines).toContain('reason,failed,,HTTP 400 Bad Request,3');
    expect(lines).toContain('version,2,,sent,40');

    const invalid = await request(t.app)
      .get(`/v1/campaigns/${id}/report/global?from=2026-02-10&to=2026-02-01`)
      .set('Authorization', t.keys.viewer)
      .expect(400);
    expect(invalid.body.errors).toEqual([{ field: 'to', message: 'must not be before from' }]);
    const notTwo = await request(t.app)
      .get(`/v1/campaigns/${id}/report/live?compare=2`)
      .set('Authorization', t.keys.viewer)
      .expect(400);
    expect(notTwo.body.errors[0].field).toBe('compare');
  });
});
