/**
 * The API's rules on the real stack. Input discipline: text PostgreSQL cannot store, integers it
 * cannot hold, header formats, undeclared methods, `If-Match` comparison and `Idempotency-Key` on
 * every write — each refused with a 4xx naming the field and the rule, and each rule stated in the
 * OpenAPI document. And what a copy or a delete keeps.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { purgeIdempotencyRecords } from '../api/idempotency';
import { startApiHarness, type ApiHarness } from './harness/api';

const EMAIL = { sender: 'news@shop.example', subject: 'Hi {{firstName}}', body: 'Hello' };

describe('API rules', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness('api-input');
  });
  afterAll(() => h?.stop());

  const as = (role: keyof ApiHarness['auth']) => ({
    get: (path: string) => request(h.app).get(path).set('Authorization', h.auth[role]),
    post: (path: string) => request(h.app).post(path).set('Authorization', h.auth[role]),
    patch: (path: string) => request(h.app).patch(path).set('Authorization', h.auth[role]),
    put: (path: string) => request(h.app).put(path).set('Authorization', h.auth[role]),
    delete: (path: string) => request(h.app).delete(path).set('Authorization', h.auth[role]),
  });
  const create = async (extra: object = {}) =>
    (
      await as('editor')
        .post('/v1/campaigns')
        .send({ name: `c-${randomUUID().slice(0, 8)}`, channel: 'email', content: EMAIL, ...extra })
        .expect(201)
    ).body as { id: string };

  it('refuses NUL characters and unpaired surrogates with 400 naming the field, creating nothing', async () => {
    const mine = { where: { createdBy: h.names.editor } }; // other suites share the database
    const before = await h.stack.prisma.campaign.count(mine);
    const nul = await as('editor')
      .post('/v1/campaigns')
      .send({ name: 'x', channel: 'email', tags: ['a\u0000b'] })
      .expect(400);
    expect(nul.body.errors).toEqual([
      { field: 'tags.0', message: 'must not contain a NUL character or an unpaired surrogate' },
    ]);
    const lone = await as('editor')
      .post('/v1/campaigns')
      .send({ name: 'half \ud83d', channel: 'email' })
      .expect(400);
    expect(lone.body.errors[0].field).toBe('name');
    expect(await h.stack.prisma.campaign.count(mine)).toBe(before);
    // A surrogate pair is one character: accepted, and stored as sent.
    const emoji = await create({ name: 'Soldes 🎉', tags: ['🎉'] });
    expect((await as('viewer').get(`/v1/campaigns/${emoji.id}`).expect(200)).body.name).toBe('Soldes 🎉');

    const filter = await as('editor')
      .post('/v1/audiences')
      .send({ name: `a-${randomUUID()}`, filter: { tier: { 'k\u0000': 'x' } } })
      .expect(400);
    expect(filter.body.errors[0].field).toMatch(/^filter\.tier/);
    const attrs = await as('editor')
      .put('/v1/profiles')
      .send({ profiles: [{ id: 'p-nul', attributes: { city: 'Pa\u0000ris' } }] })
      .expect(400);
    expect(attrs.body.errors[0].field).toBe('profiles.0.attributes.city');
    await as('viewer').get('/v1/profiles/p%00x').expect(400);
  });

  it('keeps integers within what PostgreSQL stores', async () => {
    const { id } = await create();
    const diff = await as('viewer').get(`/v1/campaigns/${id}/versions/8589934592/diff/1`).expect(400);
    expect(diff.body.errors[0].field).toBe('a');
    const rollback = await as('editor')
      .post(`/v1/campaigns/${id}/rollback`)
      .send({ version: 679495815558 })
      .expect(400);
    expect(rollback.body.errors[0].field).toBe('version');
    await as('viewer').get(`/v1/campaigns/${id}/versions/2147483647`).expect(404);
  });

  it('answers 405 with Allow for a method the path does not have', async () => {
    const { id } = await create();
    const res = await as('editor').put(`/v1/campaigns/${id}`).send({}).expect(405);
    expect(res.headers.allow).toBe('GET, PATCH, DELETE, HEAD');
    expect(res.body.code).toBe('METHOD_NOT_ALLOWED');
    await as('viewer').get('/v1/nowhere').expect(404);
  });

  it('compares If-Match strongly with the draft’s ETag', async () => {
    const { id } = await create();
    const draft = await as('viewer').get(`/v1/campaigns/${id}/draft`).expect(200);
    const campaign = await as('viewer').get(`/v1/campaigns/${id}`).expect(200);
    expect(campaign.headers.etag).toBe('"campaign-1"');
    expect(draft.headers.etag).toBe('"1"');
    const edit = (ifMatch: string) =>
      as('editor').patch(`/v1/campaigns/${id}/draft`).set('If-Match', ifMatch).send({ throttle: 10 });
    expect((await edit('W/"1"').expect(412)).body.code).toBe('REVISION_MISMATCH');
    await edit(campaign.headers.etag).expect(412);
    expect((await edit('1').expect(400)).body.errors[0].field).toBe('If-Match');
    await edit(draft.headers.etag).expect(200);
  });

  it('honours Idempotency-Key on every write, once per route, and takes over a dead first attempt', async () => {
    const { id } = await create();
    const key = randomUUID();
    const patch = () =>
      as('admin').patch(`/v1/campaigns/${id}/draft`).set('Idempotency-Key', key).send({ throttle: 7 });
    const first = await patch().expect(200);
    const again = await patch().expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.revision).toBe(first.body.revision);
    // The same key on another route is another request: refused, nothing activated.
    await as('admin').post(`/v1/campaigns/${id}/activate`).set('Idempotency-Key', key).send({}).expect(422);
    expect((await as('viewer').get(`/v1/campaigns/${id}`)).body.status).toBe('draft');

    // A first attempt that died mid-way leaves its record in progress: after the lease, a retry runs.
    const apiKeyId = (await h.stack.prisma.idempotencyRecord.findFirstOrThrow({ where: { key } })).apiKeyId;
    await h.stack.prisma.idempotencyRecord.update({
      where: { apiKeyId_key: { apiKeyId, key } },
      data: { status: null, body: undefined, createdAt: new Date(Date.now() - 120_000) },
    });
    const retried = await patch().expect(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.body.revision).toBe(first.body.revision); // the workflow acted once

    const bad = await patch().set('Idempotency-Key', 'ä').expect(400);
    expect(bad.body.errors[0].field).toBe('Idempotency-Key');
  });

  it('purges idempotency records past their retention', async () => {
    const key = randomUUID();
    await as('editor').delete(`/v1/campaigns/${randomUUID()}`).set('Idempotency-Key', key).expect(404);
    expect(await h.stack.prisma.idempotencyRecord.count({ where: { key } })).toBe(1);
    await purgeIdempotencyRecords(h.stack.prisma, new Date(Date.now() + 25 * 3_600_000));
    expect(await h.stack.prisma.idempotencyRecord.count({ where: { key } })).toBe(0);
  });

  it('refuses webhook targets on internal networks at review', async () => {
    for (const url of [
      'http://127.0.0.1:9/hook',
      'http://169.254.169.254/latest',
      'http://[::1]/x',
      'http://10.1.2.3/',
    ]) {
      const { id } = await create({ channel: 'webhook', content: { url } });
      const res = await as('publisher').post(`/v1/campaigns/${id}/activate`).send({}).expect(422);
      expect(res.body.errors).toEqual([
        { field: 'content.url', message: expect.stringContaining('public address') },
      ]);
    }
    const { id } = await create({ channel: 'webhook', content: { url: 'https://1.1.1.1/hook' } }); // no audience: nothing is ever sent
    await as('publisher').post(`/v1/campaigns/${id}/activate`).send({}).expect(200);
  });

  it('duplicates the whole spec, audience and throttle included', async () => {
    const audience = (
      await as('editor')
        .post('/v1/audiences')
        .send({ name: `a-${randomUUID()}` })
        .expect(201)
    ).body as { id: string };
    const { id } = await create({ audience: { audienceId: audience.id }, throttle: 50 });
    const copy = (await as('editor').post(`/v1/campaigns/${id}/duplicate`).send({}).expect(201)).body;
    const draft = (await as('viewer').get(`/v1/campaigns/${copy.id}/draft`).expect(200)).body;
    expect(draft).toMatchObject({ audience: { audienceId: audience.id }, throttle: 50, content: EMAIL });
  });

  it('keeps the audit trail of a deleted campaign, the delete included', async () => {
    const { id } = await create();
    await as('editor').delete(`/v1/campaigns/${id}`).expect(204);
    await as('viewer').get(`/v1/campaigns/${id}`).expect(404);
    const trail = await h.stack.prisma.campaignEvent.findMany({
      where: { campaignId: id },
      orderBy: { id: 'asc' },
    });
    expect(trail.map((e) => e.action)).toEqual(['create', 'delete']);
  });

  it('answers a create retried after its campaign was deleted: the stored 201, then 409 CAMPAIGN_DELETED', async () => {
    const key = randomUUID();
    const body = { name: `c-${randomUUID().slice(0, 8)}`, channel: 'email', content: EMAIL };
    const post = () => as('editor').post('/v1/campaigns').set('Idempotency-Key', key).send(body);
    const first = await post().expect(201);
    await as('editor').delete(`/v1/campaigns/${first.body.id}`).expect(204);

    // Within the record's retention: the first response, replayed as the idempotency rule says.
    const replay = await post().expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    await as('viewer').get(`/v1/campaigns/${first.body.id}`).expect(404); // still deleted

    // Its record purged (after 24 h, or a first answer that was a 5xx): the key still names the
    // deleted campaign, which is never created again.
    await h.stack.prisma.idempotencyRecord.deleteMany({ where: { key } });
    const late = await post();
    expect([late.status, late.body.code]).toEqual([409, 'CAMPAIGN_DELETED']);
    expect(late.body.detail).toContain(first.body.id);
    await as('viewer').get(`/v1/campaigns/${first.body.id}`).expect(404);
    const trail = await h.stack.prisma.campaignEvent.findMany({ where: { campaignId: first.body.id } });
    expect(trail.map((e) => e.action).sort()).toEqual(['create', 'delete']);

    const spec = (await request(h.app).get('/openapi.json').expect(200)).body;
    expect(spec.paths['/v1/campaigns'].post.responses['409'].description).toMatch(/deleted/);
  });

  it('states the email rule it enforces, stricter than format: email, in the OpenAPI document', async () => {
    const spec = (await request(h.app).get('/openapi.json').expect(200)).body;
    const { Profile, TriggerRecipient } = spec.components.schemas;
    expect(TriggerRecipient.properties.email.pattern).toBe(Profile.properties.email.pattern);
    const stated = new RegExp(Profile.properties.email.pattern);
    // Valid for format: email (RFC 5321 atext), refused by the API: the stated pattern refuses it too.
    for (const address of ['a}b@shop.example', 'dc=s3+/o@shop.example']) {
      expect(stated.test(address)).toBe(false);
      const res = await as('editor')
        .put('/v1/profiles')
        .send({ profiles: [{ id: `p-${randomUUID()}`, email: address }] })
        .expect(400);
      expect(res.body.errors[0].field).toBe('profiles.0.email');
    }
    expect(stated.test("o'brien+news@mail.shop.example")).toBe(true);
  });

  it('states every header rule in the OpenAPI document', async () => {
    const spec = (await request(h.app).get('/openapi.json').expect(200)).body;
    const patch = spec.paths['/v1/campaigns/{id}/draft'].patch;
    const header = (name: string) =>
      patch.parameters.find((p: { name: string }) => p.name === name).schema.pattern;
    expect(new RegExp(header('Idempotency-Key')).test('ä')).toBe(false);
    expect(new RegExp(header('If-Match')).test('W/"1"')).toBe(true);
    expect(new RegExp(header('If-Match')).test('1')).toBe(false);
    const put = spec.paths['/v1/profiles'].put.parameters.map((p: { name: string }) => p.name);
    expect(put).toContain('Idempotency-Key');
  });
});
