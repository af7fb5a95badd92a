/**
 * The API's bounds on the real stack: the per-campaign lists that grow without end (history, runs)
 * come in pages, and the public tracking routes have a rate per client address.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { trustProxy } from '../runtime/config';
import { startApiHarness, testApp, type ApiHarness } from './harness/api';

const EMAIL = { sender: 'news@shop.example', subject: 'Hi', body: 'Hello' };

describe('API limits', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness('api-limits');
  });
  afterAll(() => h?.stop());

  const get = (path: string) => request(h.app).get(path).set('Authorization', h.auth.viewer);
  const create = async () =>
    (
      await request(h.app)
        .post('/v1/campaigns')
        .set('Authorization', h.auth.editor)
        .send({ name: `c-${randomUUID().slice(0, 8)}`, channel: 'email', content: EMAIL })
        .expect(201)
    ).body as { id: string };

  /** Every page of a list, following nextCursor; each page's length checked against `limit`. */
  async function pages(path: string, limit?: number) {
    const items: Array<Record<string, unknown>> = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: URLSearchParams = new URLSearchParams({
        ...(limit ? { limit: String(limit) } : {}),
        ...(cursor ? { cursor } : {}),
      });
      const res: request.Response = await get(`${path}?${query}`).expect(200);
      sizes.push(res.body.items.length);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return { items, sizes };
  }

  it('pages a campaign’s history: 50 by default, at most 500, oldest first', async () => {
    const { id } = await create();
    // 60 more changes, at the same instant in pairs (the id breaks the tie), as the projection writes them.
    const at = Date.now();
    await h.stack.prisma.campaignEvent.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({
        campaignId: id,
        requestId: `r-${i}`,
        action: 'describe',
        actor: h.names.editor,
        at: new Date(at + 1000 + Math.floor(i / 2)),
      })),
    });
    const all = await pages(`/v1/campaigns/${id}/history`);
    expect(all.sizes).toEqual([50, 11]);
    expect(all.items.map((e) => e.requestId)).toEqual([
      expect.any(String), // the create
      ...Array.from({ length: 60 }, (_, i) => `r-${i}`),
    ]);
    expect(all.items[0].action).toBe('create');
    expect((await pages(`/v1/campaigns/${id}/history`, 7)).items).toEqual(all.items);
    expect((await get(`/v1/campaigns/${id}/history?limit=500`).expect(200)).body.items).toHaveLength(61);

    const over = await get(`/v1/campaigns/${id}/history?limit=501`).expect(400);
    expect(over.body.errors[0].field).toBe('limit');
    const forged = await get(`/v1/campaigns/${id}/history?cursor=bm90LWEtY3Vyc29y`).expect(400);
    expect(forged.body.errors[0].field).toBe('cursor');
  });

  it('pages a campaign’s runs: 50 by default, at most 500, each with its counts', async () => {
    const { id } = await create();
    await h.stack.prisma.campaignRun.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({
        campaignId: id,
        number: i + 1,
        version: 1,
        status: 'completed',
        recipients: 1,
      })),
    });
    await h.stack.prisma.message.createMany({
      data: [1, 55, 55].map((runNumber, i) => ({
        campaignId: id,
        runNumber,
        profileId: `p-${i}`,
        version: 1,
        status: i === 2 ? 'failed' : 'sent',
      })),
    });
    const all = await pages(`/v1/campaigns/${id}/runs`);
    expect(all.sizes).toEqual([50, 10]);
    expect(all.items.map((r) => r.number)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(all.items[0].counts).toEqual({ sent: 1 });
    expect(all.items[54].counts).toEqual({ sent: 1, failed: 1 });
    expect(all.items[1].counts).toEqual({});
    expect((await pages(`/v1/campaigns/${id}/runs`, 500)).sizes).toEqual([60]);

    expect((await get(`/v1/campaigns/${id}/runs?limit=0`).expect(400)).body.errors[0].field).toBe('limit');
    const forged = await get(`/v1/campaigns/${id}/runs?cursor=MXwy`).expect(400); // "1|2"
    expect(forged.body.errors[0].field).toBe('cursor');
  });

  it('limits each client address on the tracking routes: 429 with Retry-After, others unaffected', async () => {
    // 1 request per second on average: 10 per 10 s window.
    const app = testApp(h.stack, { trackingRateLimit: 1 });
    const from = (address: string) => (path: string) =>
      request(app).get(path).set('X-Forwarded-For', address);
    const statuses: number[] = [];
    let limited: request.Response | undefined;
    for (let i = 0; i < 12; i++) {
      const res = await from('203.0.113.7')(`/t/${['o', 'c', 'u'][i % 3]}/not-a-token`);
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses).toEqual([...Array(10).fill(404), 429, 429]);
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited!.headers['content-type']).toContain('application/problem+json');
    expect(limited!.body.code).toBe('RATE_LIMITED');
    const post = await request(app).post('/t/u/not-a-token').set('X-Forwarded-For', '203.0.113.7');
    expect(post.status).toBe(429);
    // Another address (a mail proxy's, say) has its own count.
    await from('198.51.100.20')('/t/o/not-a-token').expect(404);
  });

  it('takes the client address from X-Forwarded-For only behind a trusted proxy (TRUST_PROXY)', async () => {
    expect(trustProxy({})).toEqual(['loopback']);
    expect(trustProxy({ TRUST_PROXY: '10.0.0.0/8, loopback' })).toEqual(['10.0.0.0/8', 'loopback']);
    expect(trustProxy({ TRUST_PROXY: '2' })).toBe(2);
    expect(() => trustProxy({ TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY/);
    // Nothing trusted: a forged X-Forwarded-For does not make a new client; the peer's count goes on.
    const app = testApp(h.stack, { trackingRateLimit: 1, trustProxy: [] });
    for (let i = 0; i < 10; i++) {
      await request(app).get('/t/o/not-a-token').set('X-Forwarded-For', `192.0.2.${i}`).expect(404);
    }
    await request(app).get('/t/o/not-a-token').set('X-Forwarded-For', '192.0.2.99').expect(429);
  });
});
