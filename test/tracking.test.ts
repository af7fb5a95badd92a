/**
 * Tracking on the real stack (dev server, worker with tracking and a real local SMTP server,
 * PostgreSQL, the Express app): an email run carries the pixel, tracked links and RFC 8058 headers;
 * opens and clicks are recorded with their flags, refused tokens record nothing, an event shows in
 * both reports within 5 s, and a one-click unsubscribe sets consent off.
 */
import request from 'supertest';
import { verifyToken } from '../runtime/tracking-tokens';
import { until } from './harness/campaigns';
import { CHROME, startTrackingStack, tracking, type TrackingStack } from './harness/tracking';

const PREFIX = 'tracking';

describe('tracking on the real stack', () => {
  let t: TrackingStack;
  beforeAll(async () => {
    t = await startTrackingStack(PREFIX);
  });
  afterAll(() => t?.stop());

  it('sends the pixel, tracked links and List-Unsubscribe headers; records opens and clicks with their flags', async () => {
    const { id, ids, messages } = await t.sentCampaign(3);
    // Headers unfolded (long ones are wrapped onto indented lines).
    const mail = t.received.find((raw) => raw.includes(`${id}:1:${ids[0]}`))!.replace(/\r?\n[ \t]+/g, ' ');
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
      const res = await request(t.app).get(`/t/o/${pixel}`).set('User-Agent', ua).expect(200);
      expect(res.headers['content-type']).toBe('image/gif');
    }
    // Clicks: a person on link 1 (a t.token signed with the previous key: rotation), a scanner.
    const base = { campaignId: id, version: 1, source: 'run' as const, sourceId: '1', recipient: ids[1] };
    const click = t.token(
      { ...base, kind: 'c', link: 1, url: 'https://shop.example/faq' },
      tracking.keys.previous,
    );
    const res = await request(t.app).get(`/t/c/${click}?url=https://evil.example`).set('User-Agent', CHROME);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://shop.example/faq');
    await request(t.app)
      .get(`/t/c/${links[0]}`)
      .set('User-Agent', 'Mozilla/5.0 (compatible; Barracuda)')
      .expect(302);

    // Refused: altered, foreign, or of another kind; nothing recorded for them.
    const before = await t.eventCount(id);
    const [payload, mac] = click.split('.');
    await request(t.app).get(`/t/c/${payload}x.${mac}`).expect(404);
    await request(t.app)
      .get(
        `/t/c/${t.token({ ...base, kind: 'c', link: 0, url: 'https://x.example' }, 'not-our-key-0123456')}`,
      )
      .expect(404);
    await request(t.app).get(`/t/c/${pixel}`).expect(404);
    await request(t.app).get(`/t/o/${click}`).expect(404);
    expect(await t.eventCount(id)).toBe(before);

    const report = await t.live(id);
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
    expect((await t.global(id)).figures).toEqual(report.figures);
  });

  it('shows an event in both reports within 5 s', async () => {
    const { id, ids } = await t.sentCampaign(1);
    const pixel = t.token({
      kind: 'o',
      campaignId: id,
      version: 1,
      source: 'run',
      sourceId: '1',
      recipient: ids[0],
    });
    await request(t.app).get(`/t/o/${pixel}`).set('User-Agent', CHROME).expect(200);
    const start = Date.now();
    await until(
      'the open in both reports',
      async () =>
        (await t.live(id)).figures.uniqueOpened === 1 && (await t.global(id)).figures.uniqueOpened === 1,
      5_000,
    );
    expect(Date.now() - start).toBeLessThan(5_000);
  });

  it('one-click unsubscribe: a GET asks, a POST sets consent off and counts once', async () => {
    const { id, ids, messages } = await t.sentCampaign(2);
    const url = messages[0].rendered.listUnsubscribe;
    const path = new URL(url).pathname;
    expect((await request(t.app).get(path).expect(200)).text).toMatch(/<form method="post">/);
    const profile = async () =>
      (await t.pool.query(`SELECT subscribed FROM profiles WHERE id = $1`, [ids[0]])).rows[0].subscribed;
    expect(await profile()).toBe(true);
    for (let i = 0; i < 2; i++) {
      await request(t.app).post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
    }
    expect(await profile()).toBe(false);
    expect((await t.live(id)).figures.unsubscribed).toBe(1);
  });
});
