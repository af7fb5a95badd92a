/**
 * The report counters' buckets and breakdowns on the real stack: buckets in UTC whatever the
 * database session's time zone, and the per-run/execution breakdown capped (top N by volume and one
 * "others" row) with every sum still equal to the totals, in JSON and CSV.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Pool } from 'pg';
import request from 'supertest';
import { startApiHarness, type ApiHarness } from './harness/api';
import { testDatabaseUrl } from './harness/stack';

type Figures = Record<string, number>;
type Source = { kind: string; id: string; sources?: number; figures: Figures };

describe('report counters', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness('buckets');
  });
  afterAll(() => api?.stop());

  it('buckets minutes, hours and days in UTC from a session at +05:30', async () => {
    const kolkata = new Pool({
      connectionString: testDatabaseUrl(),
      options: '-c TimeZone=Asia/Kolkata',
      connectionTimeoutMillis: 10_000,
      max: 1,
    });
    try {
      expect((await kolkata.query('SHOW TimeZone')).rows[0].TimeZone).toBe('Asia/Kolkata');
      const campaign = randomUUID();
      // 23:40 UTC is 05:10 the next day in Kolkata: the local hour and day both differ from UTC's.
      await kolkata.query(
        `INSERT INTO tracking_events (campaign_id, version, source_kind, source_id, recipient, kind, flag, at)
         VALUES ($1, 1, 'run', '1', 'p1', 'open', 'human', '2026-03-01T23:40:12Z')`,
        [campaign],
      );
      const buckets = async (table: string) =>
        (
          await kolkata.query<{ bucket: string }>(
            `SELECT DISTINCT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS bucket
               FROM ${table} WHERE campaign_id = $1`,
            [campaign],
          )
        ).rows.map((r) => r.bucket);
      expect(await buckets('report_minutes')).toEqual(['2026-03-01T23:40:00']);
      expect(await buckets('report_series')).toEqual(['2026-03-01T23:40:00']);
      expect(await buckets('report_hours')).toEqual(['2026-03-01T23:00:00']);
      expect(await buckets('report_days')).toEqual(['2026-03-01T00:00:00']);
    } finally {
      await kolkata.end();
    }
  });

  it('the migration moves hour counters written off the UTC hour into the UTC hour they start in', async () => {
    const campaign = randomUUID();
    const insert = `INSERT INTO report_hours (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail, n)
                    VALUES ($1, $2, 1, 'run', '1', 'sms', 'sent', '', $3)`;
    await api.stack.pool.query(insert, [campaign, '2026-03-01T10:00:00Z', 2]);
    await api.stack.pool.query(insert, [campaign, '2026-03-01T10:30:00Z', 3]); // as a +05:30 session wrote it
    const sql = readFileSync(
      path.join(__dirname, '../prisma/migrations/20261207005000_report_utc/migration.sql'),
      'utf8',
    );
    await api.stack.pool.query(sql); // idempotent: the function replaced again, off-hour rows moved
    const { rows } = await api.stack.pool.query(
      `SELECT bucket, n::int AS n FROM report_hours WHERE campaign_id = $1`,
      [campaign],
    );
    expect(rows).toEqual([{ bucket: new Date('2026-03-01T10:00:00Z'), n: 5 }]);
  });

  it('the breakdown by run/execution is capped: the top 100 by volume and one "others" row, sums equal to the totals', async () => {
    const created = await request(api.app)
      .post('/v1/campaigns')
      .set('Authorization', api.auth.editor)
      .send({ name: 'many runs', channel: 'sms', content: { body: 'Hi' } })
      .expect(201);
    const id = created.body.id as string;
    // 150 runs, run r with r messages sent and one failed when r is a multiple of 4, written with SQL.
    await api.stack.pool.query(
      `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, reason, sent_at)
       SELECT $1, r, 'p' || r || '-' || g, 1, CASE WHEN g <= r THEN 'sent' ELSE 'failed' END,
              CASE WHEN g > r THEN 'HTTP 500' END, now() - interval '30 minutes'
         FROM generate_series(1, 150) r, generate_series(1, r + (r % 4 = 0)::int) g`,
      [id],
    );
    const report = async (kind: 'live' | 'global', csv = false) =>
      request(api.app)
        .get(`/v1/campaigns/${id}/report/${kind}`)
        .set('Authorization', api.auth.viewer)
        .set('Accept', csv ? 'text/csv' : 'application/json')
        .expect(200);
    // The report as the OpenAPI document states it (the `others` row included).
    const spec = (await request(api.app).get('/openapi.json').expect(200)).body;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv
      .addSchema(spec, 'openapi.json')
      .getSchema('openapi.json#/components/schemas/Report')!;
    const documented = (body: unknown) => (validate(body) ? [] : validate.errors);
    for (const kind of ['live', 'global'] as const) {
      const body = (await report(kind)).body as { figures: Figures; bySource: Source[] };
      expect(body.figures).toMatchObject({ sent: 11_325, failed: 37, targeted: 11_362 });
      expect(body.bySource).toHaveLength(101);
      const [top, others] = [body.bySource.slice(0, 100), body.bySource[100]];
      // The 100 largest runs (51 to 150), in run order; the 50 smallest folded into one row.
      expect(top.map((s) => s.id)).toEqual(Array.from({ length: 100 }, (_, i) => String(i + 51)));
      expect(top.every((s) => s.kind === 'run' && s.sources === undefined)).toBe(true);
      expect(others).toMatchObject({ kind: 'others', id: '', sources: 50 });
      expect(documented(body)).toEqual([]);
      for (const figure of Object.keys(body.figures)) {
        expect([figure, body.bySource.reduce((sum, s) => sum + s.figures[figure], 0)]).toEqual([
          figure,
          body.figures[figure],
        ]);
      }
      const lines = (await report(kind, true)).text.trim().split('\n').slice(1);
      const sent = lines.filter((l) => /^(run|others),[^,]*,,sent,/.test(l));
      expect(sent).toHaveLength(101);
      expect(sent.reduce((sum, l) => sum + Number(l.split(',')[4]), 0)).toBe(11_325);
      expect(sent.at(-1)).toBe('others,50,,sent,1275');
    }
  });
});
