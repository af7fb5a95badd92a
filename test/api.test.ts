/**
 * The HTTP API through the real stack: Express app → Temporal dev server → worker → activities →
 * PostgreSQL, and back.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../api/app';
import type { PrismaClient } from '../prisma/client';
import {
  runTestWorker,
  testPrisma,
  testTemporalAddress,
  uniqueTaskQueue,
  type RunningWorker,
} from './harness/stack';

describe('HTTP API on the real stack', () => {
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let prisma: PrismaClient;
  let worker: RunningWorker;
  let app: ReturnType<typeof createApp>;
  const taskQueue = uniqueTaskQueue('api');

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
    nativeConnection = await NativeConnection.connect({ address: testTemporalAddress() });
    prisma = testPrisma();
    worker = await runTestWorker({ connection: nativeConnection, taskQueue, prisma });
    app = createApp({
      client: new Client({ connection }),
      prisma,
      taskQueue,
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await nativeConnection?.close();
    await connection?.close();
    await prisma?.$disconnect();
  });

  it('creates a campaign through its workflow and reads it back from PostgreSQL', async () => {
    const created = await request(app)
      .post('/v1/campaigns')
      .send({ name: 'Welcome series', channel: 'email', type: 'scheduled' })
      .expect(201);
    expect(created.body).toMatchObject({
      name: 'Welcome series',
      channel: 'email',
      status: 'draft',
      hasDraft: true,
      liveVersion: null,
    });
    expect(created.headers.location).toBe(`/v1/campaigns/${created.body.id}`);
    expect(created.body.workflowId).toBe(`campaign-${created.body.id}`);

    const read = await request(app).get(created.headers.location).expect(200);
    expect(read.body).toEqual(created.body);
    expect(read.headers.etag).toBe('"1"');

    const description = await new Client({ connection }).workflow
      .getHandle(created.body.workflowId)
      .describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe(taskQueue);
  });

  it('rejects bad input with a problem document naming each field, and starts nothing', async () => {
    const before = await prisma.campaign.count();
    const res = await request(app)
      .post('/v1/campaigns')
      .send({ name: '', channel: 'fax', colour: 'red' })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['(body)', 'channel', 'name']);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
    expect(await prisma.campaign.count()).toBe(before);
  });

  it('answers 404 problems for unknown campaigns and routes', async () => {
    const missing = await request(app).get('/v1/campaigns/8c9a4c55-2b0e-4d8e-9d8a-2c8f6c0e0f00').expect(404);
    expect(missing.body.code).toBe('CAMPAIGN_NOT_FOUND');
    expect((await request(app).get('/v1/campaigns/not-a-uuid').expect(404)).body.code).toBe(
      'CAMPAIGN_NOT_FOUND',
    );
    expect((await request(app).get('/v1/nothing').expect(404)).body.code).toBe('ROUTE_NOT_FOUND');
  });

  it('rejects malformed JSON with 400', async () => {
    const res = await request(app)
      .post('/v1/campaigns')
      .set('Content-Type', 'application/json')
      .send('{"name":')
      .expect(400);
    expect(res.body.code).toBe('MALFORMED_JSON');
  });

  it('reports health and readiness', async () => {
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ready', temporal: 'ok', postgres: 'ok' });
  });
});
