/**
 * The HTTP API through the real stack: Express app → Temporal dev server → worker → activities →
 * PostgreSQL, and back: the source document's scenario end to end, every route's refusals,
 * idempotent retries, 401/403, 400s, pagination, 503 without a worker, profiles, audiences, runs
 * and messages. Every response is validated against the served openapi.json, and the last test
 * checks that every documented route was exercised.
 */
import { randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import request, { type Response } from 'supertest';
import type { createApp } from '../api/app';
import { testApp, testTracking } from './harness/api';
import { createApiKey } from '../api/auth';
import type { Role } from '../api/schemas';
import type { PrismaClient } from '../prisma/client';
import { stateQuery } from '../workflows/messages';
import { searchAttributes } from '../workflows/search-attributes';
import { signToken } from '../runtime/tracking-tokens';
import { startDevStack, uniqueTaskQueue, type DevStack } from './harness/stack';

const EMAIL = {
  sender: 'news@shop.example',
  subject: 'Hello {{firstName}}',
  body: 'Dear {{firstName}}, the sale is on.',
};

type OpenApi = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >;
};

describe('HTTP API on the real stack', () => {
  let stack: DevStack;
  let prisma: PrismaClient;
  let app: ReturnType<typeof createApp>;
  let spec: OpenApi;
  const keys = {} as Record<Role, string>;
  /** Key names: the actor of what each key does (other suites write to the same database). */
  const names = {} as Record<Role, string>;
  const exercised = new Set<string>();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);

  beforeAll(async () => {
    stack = await startDevStack('api');
    prisma = stack.prisma;
    app = testApp(stack);
    for (const role of ['viewer', 'editor', 'publisher', 'admin'] as const) {
      names[role] = `${role}-${randomUUID().slice(0, 6)}`;
      keys[role] = (await createApiKey(prisma, names[role], role)).key;
    }
    spec = (await request(app).get('/openapi.json').expect(200)).body;
    ajv.addSchema(spec, 'openapi.json');
  });

  afterAll(() => stack?.stop());

  /** Finds the documented route of a concrete path and checks the response against it. */
  function conforms(method: string, path: string, res: Response): Response {
    const bare = path.split('?')[0];
    const template = Object.keys(spec.paths).find((t) =>
      new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare),
    );
    expect(template).toBeDefined();
    const operation = spec.paths[template!][method];
    expect(operation).toBeDefined();
    const documented = operation.responses[String(res.status)];
    if (!documented) throw new Error(`${method} ${template} answered ${res.status}, which is not documented`);
    // The documented media type the response has (JSON unless Accept chose another), else the first.
    const media = Object.entries(documented.content ?? {});
    const [type] = media.find(([t]) => String(res.headers['content-type']).startsWith(t)) ?? media[0] ?? [];
    if (type) {
      expect(res.headers['content-type']).toContain(type);
      const pointer = `openapi.json#/paths/${template!.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${res.status}/content/${type.replace(/\//g, '~1')}/schema`;
      const validate = ajv.getSchema(pointer)!;
      // JSON is validated parsed; other media (CSV, HTML, an image) as the text they are.
      const body = type.includes('json') ? res.body : typeof res.text === 'string' ? res.text : '';
      if (!validate(body))
        throw new Error(`${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}`);
    }
    exercised.add(`${method} ${template} ${res.status}`);
    return res;
  }

  const call = async (
    role: Role | null,
    method: 'get' | 'post' | 'put' | 'patch' | 'delete',
    path: string,
    body?: object,
    headers: Record<string, string> = {},
  ) => {
    let r = request(app)[method](path);
    if (role) r = r.set('Authorization', `Bearer ${keys[role]}`);
    for (const [k, v] of Object.entries(headers)) r = r.set(k, v);
    const res = body !== undefined ? await r.send(body) : await r;
    return conforms(method, path, res);
  };

  const create = async (extra: object = {}) =>
    (
      await call('editor', 'post', '/v1/campaigns', {
        name: `c-${randomUUID().slice(0, 8)}`,
        channel: 'email',
        content: EMAIL,
        ...extra,
      })
    ).body;
  const activate = (id: string) => call('publisher', 'post', `/v1/campaigns/${id}/activate`, {});

  it('runs the source document’s scenario end to end', async () => {
    const tag = `scenario-${randomUUID().slice(0, 8)}`;
    const created = await call('editor', 'post', '/v1/campaigns', {
      name: 'Spring sale',
      channel: 'email',
      tags: [tag],
      content: EMAIL,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({
      status: 'draft',
      hasDraft: true,
      liveVersion: null,
      createdBy: expect.stringMatching(/^editor/),
    });
    expect((await call('viewer', 'get', created.headers.location)).body).toEqual(created.body);

    const first = await activate(id);
    expect(first.status).toBe(200);
    expect(first.body.campaign).toMatchObject({ status: 'live', liveVersion: 1, hasDraft: false });
    expect(first.body.version).toMatchObject({
      number: 1,
      content: EMAIL,
      activatedBy: expect.stringMatching(/^publisher/),
    });

    const draft = await call('editor', 'post', `/v1/campaigns/${id}/modify`, {});
    expect(draft.status).toBe(201);
    expect(draft.body).toMatchObject({ basedOn: 1, revision: 1, content: EMAIL });
    const edited = await call(
      'editor',
      'patch',
      `/v1/campaigns/${id}/draft`,
      { content: { ...EMAIL, subject: 'Last days, {{firstName}}!' } },
      { 'If-Match': draft.headers.etag },
    );
    expect(edited.status).toBe(200);
    expect(edited.headers.etag).toBe('"2"');

    // The live version keeps running and stays viewable, unchanged by the draft.
    const live = await call('viewer', 'get', `/v1/campaigns/${id}/live`);
    expect(live.body).toMatchObject({ number: 1, content: EMAIL });
    expect((await call('viewer', 'get', `/v1/campaigns/${id}/draft`)).body.content.subject).toBe(
      'Last days, {{firstName}}!',
    );

    // The list flags live campaigns that have a draft (the source's status-column indicator).
    const list = await call('viewer', 'get', `/v1/campaigns?status=live&hasDraft=true&tag=${tag}`);
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([id]);
    expect(list.body.items[0]).toMatchObject({ status: 'live', hasDraft: true, liveVersion: 1 });

    // Activating the draft replaces the live version.
    const second = await activate(id);
    expect(second.body.campaign).toMatchObject({ status: 'live', liveVersion: 2, hasDraft: false });
    expect((await call('viewer', 'get', `/v1/campaigns/${id}/live`)).body).toMatchObject({
      number: 2,
      basedOn: 1,
      content: { subject: 'Last days, {{firstName}}!' },
    });
    const diff = await call('viewer', 'get', `/v1/campaigns/${id}/versions/1/diff/2`);
    expect(diff.body).toEqual({
      from: 1,
      to: 2,
      changes: [
        {
          path: 'content.subject',
          kind: 'changed',
          from: 'Hello {{firstName}}',
          to: 'Last days, {{firstName}}!',
        },
      ],
    });

    // Stop: read-only for ever.
    const stop = await call('publisher', 'post', `/v1/campaigns/${id}/stop`, { mode: 'cancel' });
    expect(stop.status).toBe(200);
    expect(stop.body.receipt).toMatchObject({ mode: 'cancel', liveVersion: 2, sent: 0, cancelled: 0 });
    expect(stop.body.campaign).toMatchObject({ status: 'stopped', hasDraft: false });
    const refusals = await Promise.all([
      call('publisher', 'post', `/v1/campaigns/${id}/activate`, {}),
      call('editor', 'post', `/v1/campaigns/${id}/modify`, {}),
      call('editor', 'patch', `/v1/campaigns/${id}/draft`, { throttle: 5 }),
      call('editor', 'post', `/v1/campaigns/${id}/rollback`, { version: 1 }),
      call('publisher', 'post', `/v1/campaigns/${id}/stop`, { mode: 'drain' }),
      call('editor', 'post', `/v1/campaigns/${id}/duplicate`, {}),
      call('editor', 'delete', `/v1/campaigns/${id}`),
    ]);
    for (const res of refusals) {
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('CAMPAIGN_STOPPED');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(refusals[5].body.detail).toMatch(/cannot be used to create a new campaign/);

    const history = await call('viewer', 'get', `/v1/campaigns/${id}/history`);
    expect(history.body.items.map((e: { action: string }) => e.action)).toEqual([
      'create',
      'activate',
      'modify',
      'edit',
      'activate',
      'stop',
    ]);
    expect(history.body.items[5]).toMatchObject({ version: 2, actor: expect.stringMatching(/^publisher/) });
    const versions = await call('viewer', 'get', `/v1/campaigns/${id}/versions`);
    expect(versions.body.items.map((v: { number: number }) => v.number)).toEqual([1, 2]);
    expect((await call('viewer', 'get', `/v1/campaigns/${id}/versions/2`)).body.number).toBe(2);
    const archived = await call('publisher', 'post', `/v1/campaigns/${id}/archive`, {});
    expect(archived.body).toMatchObject({ status: 'archived', finishedAs: 'stopped' });
    const hidden = await call('viewer', 'get', `/v1/campaigns?tag=${tag}`);
    expect(hidden.body.items).toEqual([]);
    expect((await call('viewer', 'get', `/v1/campaigns?tag=${tag}&status=archived`)).body.items).toHaveLength(
      1,
    );
  });

  it('answers each lifecycle row’s refusals with the documented status and code', async () => {
    const draftOnly = await create();
    expect((await call('viewer', 'get', `/v1/campaigns/${draftOnly.id}/live`)).body.code).toBe(
      'NO_LIVE_VERSION',
    );
    const discardNever = await call('editor', 'delete', `/v1/campaigns/${draftOnly.id}/draft`);
    expect([discardNever.status, discardNever.body.code]).toEqual([409, 'NEVER_ACTIVATED']);
    expect((await call('editor', 'post', `/v1/campaigns/${draftOnly.id}/modify`, {})).body.code).toBe(
      'DRAFT_EXISTS',
    );
    expect((await call('publisher', 'post', `/v1/campaigns/${draftOnly.id}/archive`, {})).status).toBe(409);
    const stale = await call(
      'editor',
      'patch',
      `/v1/campaigns/${draftOnly.id}/draft`,
      { throttle: 5 },
      { 'If-Match': '"7"' },
    );
    expect([stale.status, stale.body.code]).toEqual([412, 'REVISION_MISMATCH']);
    expect(
      (
        await call(
          'editor',
          'patch',
          `/v1/campaigns/${draftOnly.id}/draft`,
          { throttle: 5 },
          { 'If-Match': 'garbage' },
        )
      ).status,
    ).toBe(400);

    const broken = await create({ content: { sender: 'nope', body: 'Hi {{nickname}}' } });
    const review = await activate(broken.id);
    expect(review.status).toBe(422);
    expect(review.body.code).toBe('REVIEW_FAILED');
    expect(review.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'content.body',
      'content.sender',
      'content.subject',
    ]);
    expect((await call('viewer', 'get', `/v1/campaigns/${broken.id}`)).body.status).toBe('draft'); // nothing half-applied

    const live = await create();
    await activate(live.id);
    expect((await activate(live.id)).body.code).toBe('NO_DRAFT');
    const noDraft = await call('editor', 'patch', `/v1/campaigns/${live.id}/draft`, { throttle: 5 });
    expect([noDraft.status, noDraft.body.code]).toEqual([404, 'NO_DRAFT']);
    expect((await call('editor', 'delete', `/v1/campaigns/${live.id}/draft`)).status).toBe(404);
    expect((await call('viewer', 'get', `/v1/campaigns/${live.id}/draft`)).status).toBe(404);
    expect((await call('editor', 'delete', `/v1/campaigns/${live.id}`)).body.code).toBe('ALREADY_ACTIVATED');
    expect((await call('viewer', 'get', `/v1/campaigns/${live.id}/versions/9`)).body.code).toBe(
      'NO_SUCH_VERSION',
    );
    expect((await call('editor', 'post', `/v1/campaigns/${live.id}/rollback`, { version: 9 })).status).toBe(
      404,
    );

    // modify → discard leaves live untouched; rollback makes a draft from an old version.
    await call('editor', 'post', `/v1/campaigns/${live.id}/modify`, {});
    expect((await call('editor', 'delete', `/v1/campaigns/${live.id}/draft`)).status).toBe(204);
    expect((await call('viewer', 'get', `/v1/campaigns/${live.id}`)).body).toMatchObject({
      hasDraft: false,
      liveVersion: 1,
    });
    const rollback = await call('editor', 'post', `/v1/campaigns/${live.id}/rollback`, { version: 1 });
    expect(rollback.status).toBe(201);
    expect(rollback.body).toMatchObject({ basedOn: 1, content: EMAIL });
    expect(
      (await call('editor', 'post', `/v1/campaigns/${live.id}/rollback`, { version: 1 })).body.code,
    ).toBe('DRAFT_EXISTS');

    // duplicate: a new draft campaign recording its origin.
    const copy = await call('editor', 'post', `/v1/campaigns/${live.id}/duplicate`, {});
    expect(copy.status).toBe(201);
    expect(copy.body).toMatchObject({ status: 'draft', origin: { campaignId: live.id, version: null } });

    // delete a never-activated draft.
    expect((await call('editor', 'delete', `/v1/campaigns/${copy.body.id}`)).status).toBe(204);
    expect((await call('viewer', 'get', `/v1/campaigns/${copy.body.id}`)).status).toBe(404);
    expect((await call('viewer', 'get', `/v1/campaigns/${randomUUID()}/history`)).status).toBe(404);
  });

  it('renames, describes and tags a campaign at campaign level: at once, and kept by a discard', async () => {
    const c = await create({ tags: ['spring'] });
    await activate(c.id);
    await call('editor', 'post', `/v1/campaigns/${c.id}/modify`, {});
    const described = await call('editor', 'patch', `/v1/campaigns/${c.id}`, {
      name: '  Summer sale ',
      tags: ['summer'],
    });
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({
      name: 'Summer sale',
      description: '',
      tags: ['summer'],
      status: 'live',
      hasDraft: true,
      liveVersion: 1,
    });
    expect(described.headers.etag).toBe(`"campaign-${described.body.revision}"`);
    expect(await call('editor', 'delete', `/v1/campaigns/${c.id}/draft`)).toMatchObject({ status: 204 });
    expect((await call('viewer', 'get', `/v1/campaigns/${c.id}`)).body).toMatchObject({
      name: 'Summer sale',
      tags: ['summer'],
      hasDraft: false,
    });
    const history = (await call('viewer', 'get', `/v1/campaigns/${c.id}/history`)).body.items;
    expect(history.map((e: { action: string }) => e.action)).toEqual([
      'create',
      'activate',
      'modify',
      'describe',
      'discard',
    ]);

    // The draft no longer takes them: 400 naming the field and where it went.
    await call('editor', 'post', `/v1/campaigns/${c.id}/modify`, {});
    const moved = await call('editor', 'patch', `/v1/campaigns/${c.id}/draft`, { name: 'x', throttle: 5 });
    expect([moved.status, moved.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(moved.body.errors).toEqual([
      { field: 'name', message: expect.stringContaining('PATCH /v1/campaigns/:id') },
    ]);
    const empty = await call('editor', 'patch', `/v1/campaigns/${c.id}`, {});
    expect([empty.status, empty.body.errors[0].message]).toEqual([
      400,
      'give at least one of name, description, tags',
    ]);
    expect((await call('editor', 'patch', `/v1/campaigns/${c.id}`, { name: '   ' })).status).toBe(400);
    expect((await call('viewer', 'patch', `/v1/campaigns/${c.id}`, { name: 'x' })).status).toBe(403);
    expect((await call('editor', 'patch', `/v1/campaigns/${randomUUID()}`, { name: 'x' })).status).toBe(404);
    await call('publisher', 'post', `/v1/campaigns/${c.id}/stop`, { mode: 'cancel' });
    const stopped = await call('editor', 'patch', `/v1/campaigns/${c.id}`, { description: 'late' });
    expect([stopped.status, stopped.body.code]).toEqual([409, 'CAMPAIGN_STOPPED']);
  });

  it('gives up a projection PostgreSQL refuses after bounded retries, shows it, and keeps taking commands', async () => {
    // A real refusal: a test-only CHECK constraint rejects one name (dropped at the end).
    const poison = `Poison ${randomUUID()}`;
    const constraint = `test_poison_${randomUUID().slice(0, 8)}`;
    await prisma.$executeRawUnsafe(
      `ALTER TABLE campaigns ADD CONSTRAINT ${constraint} CHECK (name <> '${poison}')`,
    );
    try {
      const a = await create({ name: 'Antidote' });
      const handle = stack.client.workflow.getHandle(`campaign-${a.id}`);
      const failed = await call('editor', 'patch', `/v1/campaigns/${a.id}`, { name: poison });
      expect(failed.status).toBe(200); // the workflow took it; the read model could not
      expect(failed.body).toMatchObject({
        name: 'Antidote',
        revision: 1,
        projectionError: { revision: 2, reason: expect.stringContaining(constraint) },
      });
      expect((await handle.query(stateQuery)).projectionFailure).toMatchObject({ revision: 2 });
      const described = await handle.describe();
      expect(described.typedSearchAttributes.get(searchAttributes.projectionFailed)).toBe(true);
      const card = (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata'))
        .currentDetails;
      expect(card).toContain('**projection failed:** revision 2');

      // Later commands still work (each projection given up on in turn), then one that can be
      // written clears the failure.
      expect((await call('editor', 'patch', `/v1/campaigns/${a.id}/draft`, { throttle: 5 })).status).toBe(
        200,
      );
      expect((await call('viewer', 'get', `/v1/campaigns/${a.id}`)).body.projectionError.revision).toBe(3);
      const healed = await call('editor', 'patch', `/v1/campaigns/${a.id}`, { name: 'Antidote 2' });
      expect(healed.body).toMatchObject({
        name: 'Antidote 2',
        revision: 4,
        draftRevision: 2,
        projectionError: null,
      });
      expect((await handle.query(stateQuery)).projectionFailure).toBeNull();
      expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.projectionFailed)).toBe(
        false,
      );

      // Delete still works behind a failing projection.
      await call('editor', 'patch', `/v1/campaigns/${a.id}`, { name: poison });
      expect((await call('editor', 'delete', `/v1/campaigns/${a.id}`)).status).toBe(204);
      expect((await call('viewer', 'get', `/v1/campaigns/${a.id}`)).status).toBe(404);

      // So does stop.
      const b = await create();
      await activate(b.id);
      await call('editor', 'patch', `/v1/campaigns/${b.id}`, { name: poison });
      const stopped = await call('publisher', 'post', `/v1/campaigns/${b.id}/stop`, { mode: 'cancel' });
      expect(stopped.status).toBe(200);
      expect(stopped.body.receipt).toMatchObject({ mode: 'cancel', liveVersion: 1 });
      expect(stopped.body.campaign.projectionError).toMatchObject({ revision: 4 });
      const bState = await stack.client.workflow.getHandle(`campaign-${b.id}`).query(stateQuery);
      expect(bState).toMatchObject({ status: 'stopped', projectionFailure: { revision: 4 } });
    } finally {
      await prisma.$executeRawUnsafe(`ALTER TABLE campaigns DROP CONSTRAINT ${constraint}`);
    }
  });

  it('makes POST retries with the same Idempotency-Key act once', async () => {
    const key = randomUUID();
    const body = { name: 'Idempotent', channel: 'sms', content: { body: 'Hi {{firstName}}' } };
    const first = await call('editor', 'post', '/v1/campaigns', body, { 'Idempotency-Key': key });
    const again = await call('editor', 'post', '/v1/campaigns', body, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await prisma.campaign.count({ where: { name: 'Idempotent', id: first.body.id } })).toBe(1);
    const reused = await call(
      'editor',
      'post',
      '/v1/campaigns',
      { ...body, name: 'Other' },
      { 'Idempotency-Key': key },
    );
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);

    const activateKey = randomUUID();
    const a1 = await call(
      'publisher',
      'post',
      `/v1/campaigns/${first.body.id}/activate`,
      {},
      { 'Idempotency-Key': activateKey },
    );
    const a2 = await call(
      'publisher',
      'post',
      `/v1/campaigns/${first.body.id}/activate`,
      {},
      { 'Idempotency-Key': activateKey },
    );
    expect(a2.body).toEqual(a1.body);
    const events = await prisma.campaignEvent.findMany({
      where: { campaignId: first.body.id, action: 'activate' },
    });
    expect(events).toHaveLength(1);

    // A duplicate whose response was lost after the workflow accepted it (its idempotency record
    // gone, as when the first request died): the retry is a replay in the workflow, which answers
    // the source again, and the copy (its id derived from the key) is the same one.
    const duplicateKey = randomUUID();
    const path = `/v1/campaigns/${first.body.id}/duplicate`;
    const d1 = await call('editor', 'post', path, {}, { 'Idempotency-Key': duplicateKey });
    expect(d1.status).toBe(201);
    expect(await prisma.idempotencyRecord.deleteMany({ where: { key: duplicateKey } })).toEqual({ count: 1 });
    const d2 = await call('editor', 'post', path, {}, { 'Idempotency-Key': duplicateKey });
    expect(d2.status).toBe(201);
    expect(d2.headers['idempotent-replayed']).toBeUndefined();
    expect(d2.body).toMatchObject({
      id: d1.body.id,
      origin: { campaignId: first.body.id },
      name: 'Idempotent (copy)',
    });
    const copies = await prisma.campaignEvent.findMany({
      where: { campaignId: first.body.id, action: 'duplicate' },
    });
    expect(copies).toHaveLength(1);
  });

  it('manages profiles and audiences, and shows runs and outbox messages with their version', async () => {
    const p = randomUUID().slice(0, 8);
    const upsert = await call('editor', 'put', '/v1/profiles', {
      profiles: [
        { id: `${p}-1`, email: `${p}-1@example.com`, attributes: { firstName: 'Ada', tier: 'gold' } },
        { id: `${p}-2`, email: `${p}-2@example.com`, subscribed: false },
        { id: `${p}-3`, phone: '+33612345678', attributes: { tier: `gold-${p}` } },
      ],
    });
    expect(upsert.body).toEqual({ upserted: 3, consentKept: [] });
    expect((await call('viewer', 'get', `/v1/profiles/${p}-1`)).body).toMatchObject({
      email: `${p}-1@example.com`,
      subscribed: true,
      attributes: { firstName: 'Ada' },
    });
    expect((await call('viewer', 'get', `/v1/profiles/${p}-nobody`)).status).toBe(404);
    const dup = await call('editor', 'put', '/v1/profiles', { profiles: [{ id: 'x' }, { id: 'x' }] });
    expect(dup.status).toBe(400);

    const list = await call('editor', 'post', '/v1/audiences', { name: `list-${p}` });
    expect(list.status).toBe(201);
    const members = await call('editor', 'post', `/v1/audiences/${list.body.id}/members`, {
      add: [`${p}-1`, `${p}-2`],
    });
    expect(members.body.members).toBe(2);
    const unknown = await call('editor', 'post', `/v1/audiences/${list.body.id}/members`, {
      add: [`${p}-404`],
    });
    expect([unknown.status, unknown.body.code]).toEqual([422, 'UNKNOWN_PROFILES']);
    const filter = await call('editor', 'post', '/v1/audiences', {
      name: `gold-${p}`,
      filter: { tier: `gold-${p}` },
    });
    expect(filter.body.members).toBe(1);
    expect((await call('viewer', 'get', `/v1/audiences/${filter.body.id}`)).body.members).toBe(1);
    expect(
      (await call('editor', 'post', `/v1/audiences/${filter.body.id}/members`, { add: [] })).status,
    ).toBe(409);
    expect((await call('editor', 'post', '/v1/audiences', { name: `list-${p}` })).status).toBe(409);

    const missingAudience = await create({ audience: { audienceId: randomUUID() } });
    const refused = await activate(missingAudience.id);
    expect([refused.status, refused.body.errors[0].field]).toEqual([422, 'audience.audienceId']);

    const c = await create({
      audience: { audienceId: list.body.id },
      content: { ...EMAIL, subject: 'Hi {{default profile.firstName "friend"}}' },
    });
    await activate(c.id);
    for (let i = 0; i < 300; i++) {
      if ((await call('viewer', 'get', `/v1/campaigns/${c.id}`)).body.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await call('viewer', 'get', `/v1/campaigns/${c.id}`)).body.status).toBe('completed'); // one-shot
    // The version keeps its audience, so a rollback or a diff sees it too.
    expect((await call('viewer', 'get', `/v1/campaigns/${c.id}/versions/1`)).body.audience).toEqual({
      audienceId: list.body.id,
    });
    const runs = await call('viewer', 'get', `/v1/campaigns/${c.id}/runs`);
    expect(runs.body.items).toEqual([
      expect.objectContaining({
        number: 1,
        version: 1,
        status: 'completed',
        recipients: 2,
        counts: { sent: 1, excluded: 1 },
      }),
    ]);
    const messages = await call('viewer', 'get', `/v1/campaigns/${c.id}/messages?limit=1`);
    expect(messages.body.items).toEqual([
      expect.objectContaining({
        profileId: `${p}-1`,
        status: 'sent',
        version: 1,
        rendered: { subject: 'Hi Ada', body: EMAIL.body.replace('{{firstName}}', 'Ada') },
      }),
    ]);
    const next = await call(
      'viewer',
      'get',
      `/v1/campaigns/${c.id}/messages?limit=1&cursor=${messages.body.nextCursor}`,
    );
    expect(next.body).toEqual({
      items: [expect.objectContaining({ profileId: `${p}-2`, status: 'excluded', reason: 'unsubscribed' })],
      nextCursor: null,
    });
    expect(
      (await call('viewer', 'get', `/v1/campaigns/${c.id}/messages?status=sent`)).body.items,
    ).toHaveLength(1);
    // Consent: the profile written with subscribed: false re-subscribes only by an explicit change.
    const consent = await call('editor', 'post', `/v1/profiles/${p}-2/consent`, {
      status: 'subscribed',
      source: 'form',
      note: 'double opt-in',
    });
    expect(consent.status).toBe(201);
    const ledger = await call('viewer', 'get', `/v1/profiles/${p}-2/consent`);
    expect(ledger.body).toMatchObject({ profileId: `${p}-2`, consent: 'subscribed' });
    expect(ledger.body.changes.map((c: { status: string }) => c.status)).toEqual([
      'subscribed',
      'unsubscribed',
    ]);
  });

  it('triggers an api_triggered campaign and follows its executions (the contract; rules in triggers.test.ts)', async () => {
    const transactional = await create({
      type: 'api_triggered',
      category: 'transactional',
      content: { ...EMAIL, body: 'Order {{context.order}}' },
    });
    expect(transactional).toMatchObject({ type: 'api_triggered', category: 'transactional' });
    await activate(transactional.id);
    const accepted = await call('publisher', 'post', `/v1/campaigns/${transactional.id}/trigger`, {
      context: { order: 'A-1' },
      recipients: [{ email: 'ada@example.com' }],
    });
    expect(accepted.status).toBe(202);
    const execution = await call('viewer', 'get', `/v1/executions/${accepted.body.executionId}`);
    expect(execution.body).toMatchObject({ version: 1, accepted: 1, outcomes: [{ recipient: 0 }] });
    const listed = await call('viewer', 'get', `/v1/campaigns/${transactional.id}/executions`);
    expect(listed.body.items.map((e: { id: string }) => e.id)).toEqual([accepted.body.executionId]);
    const messages = await call('viewer', 'get', `/v1/executions/${accepted.body.executionId}/messages`);
    expect(messages.body).toMatchObject({ items: [{ recipient: 0, version: 1 }], nextCursor: null });

    const audience = await call('editor', 'post', '/v1/audiences', { name: `a-${randomUUID()}` });
    const marketing = await create({ type: 'api_triggered', audience: { audienceId: audience.body.id } });
    await activate(marketing.id);
    const later = await call('publisher', 'post', `/v1/campaigns/${marketing.id}/trigger`, {
      executeAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(later.body).toMatchObject({ status: 'accepted', category: 'marketing' });
    const cancelled = await call('publisher', 'delete', `/v1/executions/${later.body.executionId}`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
  });

  it('requires an API key and the right role', async () => {
    const none = await call(null, 'get', '/v1/campaigns');
    expect([none.status, none.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const bad = await request(app).get('/v1/campaigns').set('Authorization', 'Bearer nope');
    expect(conforms('get', '/v1/campaigns', bad).status).toBe(401);
    const viewerWrite = await call('viewer', 'post', '/v1/campaigns', { name: 'x', channel: 'sms' });
    expect([viewerWrite.status, viewerWrite.body.code]).toEqual([403, 'FORBIDDEN']);
    const c = await create();
    expect((await call('editor', 'post', `/v1/campaigns/${c.id}/activate`, {})).status).toBe(403);
    expect((await call('publisher', 'post', `/v1/campaigns/${c.id}/modify`, {})).status).toBe(403);
    expect((await call('editor', 'get', '/v1/api-keys')).status).toBe(403);
    expect((await call('viewer', 'get', '/v1/me')).body).toEqual({
      name: names.viewer,
      role: 'viewer',
      permissions: ['read'],
    });
    expect((await call('publisher', 'get', '/v1/me')).body.permissions).toEqual([
      'read',
      'publish',
      'trigger',
    ]);
    const preview = await call('viewer', 'post', '/v1/preview', { content: EMAIL });
    expect(preview.body).toMatchObject({
      rendered: { subject: 'Hello Ada', body: 'Dear Ada, the sale is on.' },
      errors: [],
    });
    const broken = await call('viewer', 'post', '/v1/preview', { content: { subject: '{{nope}}' } });
    expect(broken.body.errors).toEqual([
      { field: 'content.subject', message: expect.stringContaining('nope') },
    ]);

    const made = await call('admin', 'post', '/v1/api-keys', { name: 'ci', role: 'viewer' });
    expect(made.status).toBe(201);
    expect(made.body.key).toMatch(/^co_/);
    const stored = await prisma.apiKey.findUniqueOrThrow({ where: { id: made.body.id } });
    expect(stored.hash).not.toContain(made.body.key); // only the hash is kept
    expect(
      (await request(app).get('/v1/campaigns').set('Authorization', `Bearer ${made.body.key}`)).status,
    ).toBe(200);
    const listed = await call('admin', 'get', '/v1/api-keys');
    expect(JSON.stringify(listed.body)).not.toContain(made.body.key);
    expect((await call('admin', 'delete', `/v1/api-keys/${made.body.id}`)).body.revokedAt).not.toBeNull();
    expect(
      (await request(app).get('/v1/campaigns').set('Authorization', `Bearer ${made.body.key}`)).status,
    ).toBe(401);
    expect((await call('admin', 'delete', `/v1/api-keys/${randomUUID()}`)).status).toBe(404);
  });

  it('rejects bad input with a problem naming each field, and starts nothing', async () => {
    const mine = { where: { createdBy: names.editor } };
    const before = await prisma.campaign.count(mine);
    const res = await call('editor', 'post', '/v1/campaigns', { name: '', channel: 'fax', colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'channel',
      'colour',
      'name',
    ]);
    expect(res.body.errors.find((e: { field: string }) => e.field === 'colour').message).toBe(
      'is not a known field',
    );
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
    expect(await prisma.campaign.count(mine)).toBe(before);
    const malformed = await request(app)
      .post('/v1/campaigns')
      .set('Authorization', `Bearer ${keys.editor}`)
      .set('Content-Type', 'application/json')
      .send('{"name":');
    expect([malformed.status, malformed.body.code]).toEqual([400, 'MALFORMED_JSON']);
    expect((await call('viewer', 'get', '/v1/campaigns/not-a-uuid')).body.errors[0].field).toBe('id');
    expect((await call('viewer', 'get', '/v1/campaigns?limit=1000')).body.errors[0].field).toBe('limit');
    expect((await call('viewer', 'get', '/v1/campaigns?cursor=zzz')).body.errors[0].field).toBe('cursor');
    expect(
      (await call('publisher', 'post', `/v1/campaigns/${randomUUID()}/stop`, { mode: 'pause' })).body
        .errors[0].field,
    ).toBe('mode');
  });

  it('pages through lists with a cursor and filters them', async () => {
    const tag = `page-${randomUUID().slice(0, 8)}`;
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await create({ tags: [tag], name: `Page ${tag} ${i}` })).id);
    const page1 = await call('viewer', 'get', `/v1/campaigns?tag=${tag}&limit=2`);
    expect(page1.body.items.map((c: { id: string }) => c.id)).toEqual([made[2], made[1]]);
    const page2 = await call(
      'viewer',
      'get',
      `/v1/campaigns?tag=${tag}&limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body).toEqual({ items: [expect.objectContaining({ id: made[0] })], nextCursor: null });
    expect(
      (await call('viewer', 'get', `/v1/campaigns?q=${encodeURIComponent(`page ${tag} 1`)}`)).body.items,
    ).toHaveLength(1);
    expect((await call('viewer', 'get', `/v1/campaigns?tag=${tag}&channel=sms`)).body.items).toHaveLength(0);
  });

  it('serves reports (JSON and CSV), provider events and the public tracking routes', async () => {
    const { id } = await create();
    const live = await call('viewer', 'get', `/v1/campaigns/${id}/report/live?compare=1,2`);
    expect(live.body).toMatchObject({ campaignId: id, granularity: 'minute', figures: { targeted: 0 } });
    const csv = await call(
      'viewer',
      'get',
      `/v1/campaigns/${id}/report/global?from=2026-01-01&to=2026-12-31`,
      undefined,
      {
        Accept: 'text/csv',
      },
    );
    expect(csv.text.split('\n')[0]).toBe('section,key,at,figure,value');
    expect((await call('viewer', 'get', `/v1/campaigns/${randomUUID()}/report/global`)).status).toBe(404);
    expect((await call('viewer', 'get', `/v1/campaigns/${id}/report/global?from=2026-02-30`)).status).toBe(
      400,
    );
    const events = await call('publisher', 'post', '/v1/events', {
      events: [{ type: 'complained', messageId: `${id}:1:nobody` }],
    });
    expect(events.body).toEqual({ recorded: 0, unknown: [`${id}:1:nobody`] });
    expect((await call('viewer', 'post', '/v1/events', { events: [] })).status).toBe(403);

    // Public: tokens signed with the app's tracking key.
    const ref = {
      campaignId: id,
      version: 1,
      source: 'run' as const,
      sourceId: '1',
      recipient: 'p',
      sentAt: 0,
    };
    const sign = (extra: object) => signToken(testTracking.keys, { ...ref, ...extra } as never);
    expect((await call(null, 'get', `/t/o/${sign({ kind: 'o' })}`)).status).toBe(200);
    const click = await call(
      null,
      'get',
      `/t/c/${sign({ kind: 'c', link: 0, url: 'https://shop.example/' })}`,
    );
    expect([click.status, click.headers.location]).toEqual([302, 'https://shop.example/']);
    const unsubscribe = `/t/u/${sign({ kind: 'u' })}`;
    expect((await call(null, 'get', unsubscribe)).status).toBe(200);
    expect((await call(null, 'post', unsubscribe)).status).toBe(200);
    expect((await call(null, 'get', '/t/o/forged.token')).status).toBe(404);
  });

  it('answers 503 with Retry-After when no worker takes the command', async () => {
    const orphanQueue = uniqueTaskQueue('no-worker');
    const lonely = testApp(stack, { taskQueue: orphanQueue, commandTimeoutMs: 1500 });
    const res = await request(lonely)
      .post('/v1/campaigns')
      .set('Authorization', `Bearer ${keys.editor}`)
      .send({ name: 'nobody home', channel: 'sms' });
    expect(conforms('post', '/v1/campaigns', res).status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.code).toBe('WORKFLOW_UNAVAILABLE');
  });

  it('serves health, readiness, metrics, OpenAPI, docs, security headers and request ids', async () => {
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    expect((await request(app).get('/readyz').expect(200)).body).toEqual({
      status: 'ready',
      temporal: 'ok',
      postgres: 'ok',
    });
    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/http_request_duration_seconds_bucket\{.*route="\/v1\/campaigns\/:id"/);
    expect(spec).toMatchObject({ openapi: '3.1.0' });
    expect((await request(app).get('/docs/').expect(200)).text).toMatch(/swagger-ui/);
    const res = await request(app).get('/healthz').set('X-Request-Id', 'trace-123');
    expect(res.headers['x-request-id']).toBe('trace-123');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(
      (await request(app).get('/v1/nothing').set('Authorization', `Bearer ${keys.viewer}`)).body.code,
    ).toBe('ROUTE_NOT_FOUND');
    // The console is served at / (same origin, under the same CSP: no inline script).
    const page = await request(app).get('/').expect(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toMatch(/<script type="module" src="\/console\/app\.js"><\/script>/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await request(app).get('/console/app.js').expect(200)).headers['content-type']).toMatch(
      /javascript/,
    );
    expect((await request(app).get('/v1/nothing')).status).toBe(401);
  });

  it('exercised every documented route with a success', () => {
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    // A success is a 2xx, or the redirect a tracked link answers with.
    const succeeded = [...exercised]
      .filter((e) => /\s(2\d\d|302)$/.test(e))
      .map((e) => e.replace(/\s\d+$/, ''));
    expect(documented.filter((d) => !succeeded.includes(d))).toEqual([]);
  });
});
