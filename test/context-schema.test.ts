/**
 * `contextSchema` on the real stack, through the HTTP API: a schema with `$id` reviewed and used by
 * several campaigns and versions, a catastrophic `pattern` that must not stall the API, keywords that
 * carry any JSON number, and the size cap.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { campaignWorkflowId, commandSignal } from '../workflows/messages';
import { startApiHarness, type ApiHarness } from './harness/api';
import { until } from './harness/campaigns';

const money = { type: 'number', multipleOf: 0.01 };

describe('contextSchema', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness('ctxschema');
  });
  afterAll(() => api?.stop());

  const post = (path: string, body: object, role: 'editor' | 'publisher' = 'editor') =>
    request(api.app).post(path).set('Authorization', api.auth[role]).send(body);

  /** An api_triggered campaign with `contextSchema`; returns its id once created. */
  async function campaign(contextSchema: object, body = 'Code {{context.code}}'): Promise<string> {
    const created = await post('/v1/campaigns', {
      name: 'schema',
      type: 'api_triggered',
      category: 'transactional',
      channel: 'sms',
      content: { body, contextSchema },
    });
    expect(created.status).toBe(201);
    return created.body.id as string;
  }
  const activate = (id: string) => post(`/v1/campaigns/${id}/activate`, {}, 'publisher');
  const trigger = (id: string, context: object) =>
    post(`/v1/campaigns/${id}/trigger`, { context, recipients: [{ phone: '+33600000001' }] }, 'publisher');

  it('a schema with $id is reviewed and used again and again: other campaigns, re-reviews and calls do not fail', async () => {
    const schema = {
      $id: 'https://shop.example/schemas/order',
      type: 'object',
      properties: { code: { type: 'string' } },
      required: ['code'],
    };
    const first = await campaign(schema);
    const second = await campaign({ ...schema, properties: { code: { type: 'string', minLength: 2 } } });
    for (const id of [first, second]) expect((await activate(id)).status).toBe(200);
    // A re-review of the same schema: a new version from the live one.
    expect((await post(`/v1/campaigns/${first}/modify`, {})).status).toBe(201);
    expect((await activate(first)).status).toBe(200);
    for (const id of [first, second, first]) {
      expect((await trigger(id, { code: 'AB' })).status).toBe(202);
      expect((await trigger(id, {})).status).toBe(422);
    }
    expect((await trigger(second, { code: 'A' })).body.errors).toEqual([
      { field: 'context.code', message: 'must NOT have fewer than 2 characters' },
    ]);
  });

  it('a catastrophic pattern is matched in linear time: the API answers other requests within 200 ms meanwhile', async () => {
    const id = await campaign({
      type: 'object',
      properties: { code: { type: 'string', pattern: '^(a+)+$' } },
      patternProperties: { '^(x+)+$': { type: 'string' } },
    });
    expect((await activate(id)).status).toBe(200);
    const server: Server = api.app.listen(0);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const evil = 'a'.repeat(40) + 'b';
      let done = false;
      const sent = performance.now();
      const call = fetch(`${base}/v1/campaigns/${id}/trigger`, {
        method: 'POST',
        headers: { authorization: api.auth.publisher, 'content-type': 'application/json' },
        body: JSON.stringify({
          context: { code: evil, [`${'x'.repeat(40)}y`]: 1 },
          recipients: [{ phone: '+33600000001' }],
        }),
      }).finally(() => (done = true));
      // Health checks, one after another, for as long as the call is in flight.
      const latencies: number[] = [];
      while (!done) {
        const started = performance.now();
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        latencies.push(performance.now() - started);
      }
      const answer = await call;
      expect(performance.now() - sent).toBeLessThan(2_000);
      expect(answer.status).toBe(422);
      expect(((await answer.json()) as { errors: { field: string }[] }).errors[0].field).toBe('context.code');
      expect(latencies.length).toBeGreaterThan(0);
      expect(Math.max(...latencies)).toBeLessThan(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a pattern RE2 cannot run (lookahead) fails review, naming the field', async () => {
    const id = await campaign({
      type: 'object',
      properties: { code: { type: 'string', pattern: '^(?=a)' } },
    });
    const review = await activate(id);
    expect(review.status).toBe(422);
    expect(review.body.errors).toEqual([
      { field: 'content.contextSchema', message: expect.stringMatching(/not a valid JSON Schema.*\(\?=/) },
    ]);
  });

  it('a live version whose schema does not compile (activated without the API) answers calls 409, not 500', async () => {
    const id = await campaign({
      type: 'object',
      properties: { code: { type: 'string', pattern: '^(?!x)' } },
    });
    // A signal bypasses the API's review, as a version activated before patterns ran on RE2 did.
    await api.stack.client.workflow
      .getHandle(campaignWorkflowId(id))
      .signal(commandSignal, { type: 'activate', requestId: `sig-${id}`, actor: 'ops' });
    await until(
      'the campaign is live',
      async () =>
        (await request(api.app).get(`/v1/campaigns/${id}`).set('Authorization', api.auth.viewer)).body
          .status === 'live',
      30_000,
    );
    for (let i = 0; i < 2; i++) {
      const res = await trigger(id, { code: 'A' });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        code: 'CONTEXT_SCHEMA_UNUSABLE',
        detail: expect.stringMatching(/contextSchema cannot be used .*activate a version that fixes it/),
      });
    }
  });

  it('keywords carry any JSON number: multipleOf 0.01 is accepted, and checked per call', async () => {
    const contextSchema = {
      type: 'object',
      properties: { code: { type: 'string' }, amount: { ...money, maximum: 1e12 } },
    };
    const id = await campaign(contextSchema);
    // An edit (a workflow update, checked by the input rules) as well as the create.
    const edited = await request(api.app)
      .patch(`/v1/campaigns/${id}/draft`)
      .set('Authorization', api.auth.editor)
      .send({
        content: {
          body: 'Paid {{context.amount}}',
          contextSchema: {
            ...contextSchema,
            properties: { ...contextSchema.properties, amount: { ...money, minimum: 0.5 } },
          },
        },
      });
    expect(edited.status).toBe(200);
    expect((await activate(id)).status).toBe(200);
    expect((await trigger(id, { code: 'A', amount: 12.34 })).status).toBe(202);
    const refused = await trigger(id, { code: 'A', amount: 12.345 });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([{ field: 'context.amount', message: 'must be multiple of 0.01' }]);
  });

  it('a contextSchema beyond 64 KB as JSON is refused with 400 naming the field; the OpenAPI document says so', async () => {
    const properties = Object.fromEntries(
      Array.from({ length: 2000 }, (_, i) => [`field${i}`, { type: 'string', description: 'x'.repeat(20) }]),
    );
    const res = await post('/v1/campaigns', {
      name: 'big',
      type: 'api_triggered',
      channel: 'sms',
      content: { body: 'x', contextSchema: { type: 'object', properties } },
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors).toEqual([
      { field: 'content.contextSchema', message: 'must be at most 65536 bytes as JSON' },
    ]);
    const doc = (await request(api.app).get('/openapi.json')).body;
    const described = doc.components.schemas.Content.properties.contextSchema.description as string;
    expect(described).toMatch(/at most 65536 bytes as JSON \(400 beyond\)/i);
    expect(described).toMatch(/multipleOf: 0\.01/);
    expect(described).toMatch(/RE2/);
  });
});
