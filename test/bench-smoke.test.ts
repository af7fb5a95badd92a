/**
 * The benchmark scenarios, run tiny on the test stack: they must work end to end and report every
 * figure. No timing is asserted (benchmarks print figures; `npm run bench` runs them full size).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Pool } from 'pg';
import { testApp } from './harness/api';
import { createApiKey } from '../api/auth';
import { lifecycleScenario } from './bench/lifecycle';
import { deliveryScenario, longLifeScenario, scaleScenario, type BenchContext } from './bench/scenarios';
import { memoryScenario } from './bench/memory';
import { reportsScenario } from './bench/reports';
import { triggerHistoryScenario } from './bench/trigger-history';
import { startDevStack, testDatabaseUrl, testTemporalAddress, type DevStack } from './harness/stack';

describe('benchmark scenarios (smoke)', () => {
  let stack: DevStack;
  let server: Server;
  let pool: Pool;
  let ctx: BenchContext;

  beforeAll(async () => {
    stack = await startDevStack('bench');
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 4 });
    const app = testApp(stack);
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    ctx = {
      client: stack.client,
      prisma: stack.prisma,
      pool,
      taskQueue: stack.taskQueue,
      apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      apiKey: (await createApiKey(stack.prisma, 'bench-smoke', 'admin')).key,
    };
  });

  afterAll(async () => {
    server?.close();
    await pool?.end();
    await stack?.stop();
  });

  it('lifecycle through the API and the client ceiling', async () => {
    const r = await lifecycleScenario(ctx, 3, 2);
    expect(r.api.all.n).toBe(18);
    expect(r.temporalClientCeiling.all.n).toBe(18);
    expect(r.throughputRatio).toBeGreaterThan(0);
  });

  it('long life', async () => {
    const r = await longLifeScenario(ctx, 20, 2);
    expect(r).toMatchObject({ edits: 20, activations: 2, commands: 24, liveVersion: 2 });
    expect(r.maxHistoryEventsPerRun).toBeGreaterThan(0);
  });

  it('scale', async () => {
    const r = await scaleScenario(ctx, 10, 5);
    expect(r.campaigns).toBe(10);
    expect(r.listLiveWithDraftMs.n).toBe(50);
  });

  it('reports and tracking against the plain-insert ceiling', async () => {
    const r = await reportsScenario(ctx, {
      messages: 1000,
      events: 2000,
      hits: 100,
      rate: 200,
      reportCalls: 5,
    });
    expect(r.liveFigures.targeted).toBe(1000);
    expect(r.tracking.recorded).toBe(100);
    expect(r.liveReportMs.n).toBe(5);
    expect(r.plainInsertCeiling.n).toBe(100);
  });

  it('delivery against its ceiling', async () => {
    const r = await deliveryScenario(ctx, 500);
    expect(r.messagesSent).toBe(500);
    expect(r.ratioToCeiling).toBeGreaterThan(0);
  });

  it('trigger history against maxHistoryEvents', async () => {
    const r = await triggerHistoryScenario(ctx, { calls: 30, rate: 20, maxHistoryEvents: 30 });
    expect(r).toMatchObject({ calls: 30, accepted: 30, refusedOrFailed: 0, sent: 30, maxHistoryEvents: 30 });
    expect(r.runs).toBeGreaterThanOrEqual(1);
    expect(r.historyEvents.currentRun).toBeGreaterThan(0);
  });

  it('memory, with the worker in a process of its own', async () => {
    const r = await memoryScenario(ctx, {
      count: 6,
      temporalAddress: testTemporalAddress(),
      databaseUrl: testDatabaseUrl(),
      cache: 2,
      settleSeconds: 1,
      samples: 2,
    });
    expect(r).toMatchObject({ campaigns: 6, cacheSize: 2, firstCreatedOutOfCache: true });
    expect(r.workerRssMiB.settled).toBeGreaterThan(0);
    expect(r.evictedCommandMs.n).toBe(2);
  });
});
