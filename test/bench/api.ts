/**
 * `npm run bench:api`: through the HTTP API on a local stack, measures the latency of listing
 * campaigns with 1,000 campaigns in the database, and of `activate` over 200 calls. Prints figures.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createApiKey } from '../../api/auth';
import { percentile, startBenchStack } from './stack';

const CAMPAIGNS = Number(process.env.BENCH_CAMPAIGNS ?? 1000);
const ACTIVATIONS = Number(process.env.BENCH_ACTIVATIONS ?? 200);
const LISTS = 200;

async function main(): Promise<void> {
  const stack = await startBenchStack('bench-api');
  const app = createApp({
    client: stack.client,
    prisma: stack.prisma,
    taskQueue: stack.taskQueue,
    logger: pino({ level: 'silent' }),
  });
  const server = app.listen(0);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { key } = await createApiKey(stack.prisma, 'bench', 'admin');
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const http = async (method: string, path: string, body?: object) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ id: string }>;
  };
  const timed = async (n: number, call: (i: number) => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await call(i);
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    const ms = (p: number) => Number(percentile(samples, p).toFixed(1));
    return { n, p50: ms(50), p90: ms(90), p99: ms(99), max: ms(100) };
  };
  try {
    const content = { sender: 'news@shop.example', subject: 'Hi {{firstName}}', body: 'Hello {{firstName}}' };
    const ids: string[] = [];
    const createStart = Date.now();
    // Create with 8 concurrent clients.
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = w; i < CAMPAIGNS; i += 8) {
          const c = await http('POST', '/v1/campaigns', {
            name: `bench ${i} ${randomUUID().slice(0, 4)}`,
            channel: 'email',
            tags: [i % 2 ? 'odd' : 'even'],
            content,
          });
          ids.push(c.id);
        }
      }),
    );
    const createSeconds = (Date.now() - createStart) / 1000;
    const activate = await timed(ACTIVATIONS, (i) => http('POST', `/v1/campaigns/${ids[i]}/activate`, {}));
    const listDefault = await timed(LISTS, () => http('GET', '/v1/campaigns?limit=20'));
    const listFiltered = await timed(LISTS, () =>
      http('GET', '/v1/campaigns?status=live&hasDraft=false&tag=odd&limit=50'),
    );
    const listSearch = await timed(LISTS, () => http('GET', '/v1/campaigns?q=bench%2099&limit=20'));
    console.log(
      JSON.stringify(
        {
          campaignsInDatabase: await stack.prisma.campaign.count(),
          createThroughput: `${(CAMPAIGNS / createSeconds).toFixed(1)} campaigns/s with 8 clients`,
          activateMs: activate,
          listMs: { firstPage: listDefault, filtered: listFiltered, nameSearch: listSearch },
        },
        null,
        2,
      ),
    );
  } finally {
    server.close();
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
