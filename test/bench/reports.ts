/**
 * 5. Reports and tracking. A campaign with `messages` message rows (two runs of two versions, sent
 * over the last 20 hours) and `events` tracking events (opens and clicks over the last 24 hours,
 * some machine/bot), all written through the counting triggers; then the live and global reports'
 * latency over HTTP, and the open pixel's latency and rate at a fixed offered rate (the load from a
 * thread of its own), next to a plain
 * INSERT of the same rows (one statement per hit, same concurrency, into a copy of the table
 * without the trigger).
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { testTracking } from '../harness/api';
import { signToken } from '../../runtime/tracking-tokens';
import { stats, type BenchContext } from './scenarios';

const CHUNK = 100_000;

async function chunks(total: number, step: (from: number, to: number) => Promise<unknown>) {
  for (let from = 1; from <= total; from += CHUNK) await step(from, Math.min(total, from + CHUNK - 1));
}

/** Runs `job(i)` for i < count, started at `rate` per second (open loop); latencies from the scheduled start. */
async function atRate(count: number, rate: number, job: (i: number) => Promise<void>) {
  const samples: number[] = [];
  const start = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(job(i).then(() => void samples.push(performance.now() - due)));
  }
  await Promise.all(inFlight);
  return stats(samples, (performance.now() - start) / 1000);
}

/**
 * GETs `base + paths[i]` at `rate` per second (open loop) from a thread of its own (the API runs on
 * this one), over kept-alive connections; latencies from each request's scheduled start.
 */
function httpAtRate(base: string, paths: string[], rate: number, userAgent: string) {
  const code = `
    const { parentPort, workerData: { base, paths, rate, userAgent } } = require('node:worker_threads');
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
    const samples = new Array(paths.length);
    let done = 0, failed = 0, next = 0;
    const start = performance.now();
    const finish = (i, due, ok) => {
      samples[i] = performance.now() - due;
      if (!ok) failed++;
      if (++done === paths.length) parentPort.postMessage({ samples, seconds: (performance.now() - start) / 1000, failed });
    };
    const one = (i) => {
      const due = start + (i * 1000) / rate;
      http.get(base + paths[i], { agent, headers: { 'user-agent': userAgent } }, (res) => {
        res.resume();
        res.on('end', () => finish(i, due, res.statusCode === 200));
      }).on('error', () => finish(i, due, false));
    };
    const tick = () => {
      const now = performance.now();
      while (next < paths.length && start + (next * 1000) / rate <= now) one(next++);
      if (next < paths.length) setTimeout(tick, 1);
    };
    tick();`;
  return new Promise<{ samples: number[]; seconds: number; failed: number }>((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { base, paths, rate, userAgent } });
    worker.once('message', (result) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

export async function reportsScenario(
  ctx: BenchContext,
  sizes: { messages: number; events: number; hits: number; rate: number; reportCalls?: number },
) {
  const { pool: db } = ctx;
  const headers = { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' };
  const created = await fetch(`${ctx.apiUrl}/v1/campaigns`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: `report bench ${randomUUID().slice(0, 8)}`, channel: 'email' }),
  });
  const { id } = (await created.json()) as { id: string };
  const perRun = Math.ceil(sizes.messages / 2);

  const loadStart = performance.now();
  for (const run of [1, 2]) {
    await chunks(perRun, (from, to) =>
      db.query(
        `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason, sent_at)
         SELECT $1, $2::int, 'm' || $2::int || '-' || i, $2::int,
                CASE WHEN i % 50 = 0 THEN 'excluded' WHEN i % 97 = 0 THEN 'failed' ELSE 'sent' END,
                CASE WHEN i % 50 = 0 THEN 'unsubscribed' WHEN i % 97 = 0 THEN 'SMTP 550: no such user' END,
                CASE WHEN i % 50 <> 0 THEN now() - ((i * 13) % 72000) * interval '1 second' END
           FROM generate_series($3::int, $4::int) i`,
        [id, run, from, to],
      ),
    );
  }
  const messagesSeconds = (performance.now() - loadStart) / 1000;
  const eventsStart = performance.now();
  await chunks(sizes.events, (from, to) =>
    db.query(
      `INSERT INTO tracking_events (campaign_id, version, source_kind, source_id, recipient, kind, link, flag, reason, ua_class, at)
       SELECT $1, v, 'run', v::text, 'm' || v || '-' || (1 + abs(hashint4(g)) % $4::int),
              CASE WHEN g % 10 < 6 THEN 'open' ELSE 'click' END,
              CASE WHEN g % 10 >= 6 THEN g % 3 END,
              CASE g % 10 WHEN 0 THEN 'machine_open' WHEN 9 THEN 'bot_click' ELSE 'human' END,
              CASE g % 10 WHEN 0 THEN 'apple_mpp' WHEN 9 THEN 'known_scanner' END,
              'browser', now() - ((g::bigint * 7919) % 86400) * interval '1 second'
         FROM generate_series($2::int, $3::int) g, LATERAL (SELECT 1 + g % 2 AS v) x`,
      [id, from, to, perRun],
    ),
  );
  const eventsSeconds = (performance.now() - eventsStart) / 1000;
  const counters = Number(
    (await db.query(`SELECT count(*) AS n FROM report_minutes WHERE campaign_id = $1`, [id])).rows[0].n,
  );

  const report = async (path: string) => {
    const samples: number[] = [];
    const start = performance.now();
    let body: { figures: { targeted: number; opened: number } } | undefined;
    for (let i = 0; i < (sizes.reportCalls ?? 200); i++) {
      const t = performance.now();
      const res = await fetch(`${ctx.apiUrl}/v1/campaigns/${id}/report/${path}`, { headers });
      body = (await res.json()) as typeof body;
      samples.push(performance.now() - t);
    }
    return { ms: stats(samples, (performance.now() - start) / 1000), figures: body!.figures };
  };
  const live = await report('live');
  const global = await report('global?compare=1,2');

  // Tracking: open pixels of distinct messages, at a fixed offered rate.
  const keys = testTracking.keys;
  const tokens = Array.from({ length: sizes.hits }, (_, i) =>
    signToken(keys, {
      kind: 'o',
      campaignId: id,
      version: 1,
      source: 'run',
      sourceId: '1',
      recipient: `m1-${1 + (i % perRun)}`,
      sentAt: Date.now() - 3_600_000,
    }),
  );
  const ua =
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
  const before = Number(
    (await db.query(`SELECT count(*) AS n FROM tracking_events WHERE campaign_id = $1`, [id])).rows[0].n,
  );
  const load = await httpAtRate(
    ctx.apiUrl,
    tokens.map((t) => `/t/o/${t}`),
    sizes.rate,
    ua,
  );
  if (load.failed > 0) throw new Error(`${load.failed} pixel requests failed`);
  const hits = stats(load.samples, load.seconds);
  const recorded =
    Number(
      (await db.query(`SELECT count(*) AS n FROM tracking_events WHERE campaign_id = $1`, [id])).rows[0].n,
    ) - before;

  // The ceiling: the same rows, one INSERT each, at the same offered rate, into a copy without trigger.
  const copy = `tracking_ceiling_${randomUUID().slice(0, 8)}`;
  await db.query(`CREATE TABLE ${copy} (LIKE tracking_events INCLUDING DEFAULTS)`);
  const ceiling = await atRate(sizes.hits, sizes.rate, async (i) => {
    await db.query(
      `INSERT INTO ${copy} (id, campaign_id, version, source_kind, source_id, recipient, kind, flag, ua_class)
       VALUES (nextval('tracking_events_id_seq'), $1, 1, 'run', '1', $2, 'open', 'human', 'browser')`,
      [id, `m1-${1 + (i % perRun)}`],
    );
  });
  await db.query(`DROP TABLE ${copy}`);

  return {
    messages: perRun * 2,
    events: sizes.events,
    loadSeconds: { messages: Number(messagesSeconds.toFixed(1)), events: Number(eventsSeconds.toFixed(1)) },
    counterRowsPerMinute: counters,
    liveReportMs: live.ms,
    globalReportMs: global.ms,
    liveFigures: live.figures,
    tracking: { offeredPerSecond: sizes.rate, hits: hits, recorded },
    plainInsertCeiling: ceiling,
  };
}
