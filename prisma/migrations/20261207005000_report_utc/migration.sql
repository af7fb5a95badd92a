-- Counter buckets in UTC whatever the session's TimeZone: date_trunc('hour' | 'minute', timestamptz)
-- truncates in the session's zone, so a session at +05:30 wrote hour buckets at hh:30 UTC, which the
-- live report (whole UTC hours from report_hours) then counted in the wrong hour or not at all.
CREATE OR REPLACE FUNCTION report_bump(deltas report_delta[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_minutes AS r (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail, n)
    SELECT campaign_id, date_trunc('minute', at, 'UTC'), version, source_kind, source_id, channel, metric, detail, sum(n)
      FROM unnest(deltas) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail)
    DO UPDATE SET n = r.n + excluded.n;
    INSERT INTO report_hours AS r (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail, n)
    SELECT campaign_id, date_trunc('hour', at, 'UTC'), version, source_kind, source_id, channel, metric, detail, sum(n)
      FROM unnest(deltas) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail)
    DO UPDATE SET n = r.n + excluded.n;
    INSERT INTO report_series AS r (campaign_id, bucket, sums)
    SELECT campaign_id, bucket, jsonb_object_agg(metric, n)
      FROM (SELECT campaign_id, date_trunc('minute', at, 'UTC') AS bucket, metric, sum(n) AS n
              FROM unnest(deltas) GROUP BY 1, 2, 3) x
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (campaign_id, bucket) DO UPDATE SET sums = report_jsonb_add(r.sums, excluded.sums);
    INSERT INTO report_days AS r (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail, n)
    SELECT campaign_id, date_trunc('day', at, 'UTC'), version, source_kind, source_id, channel, metric, detail, sum(n)
      FROM unnest(deltas) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail)
    DO UPDATE SET n = r.n + excluded.n;
$$;

-- Hour counters already written off the UTC hour (by a session in a zone with a non-whole-hour
-- offset) move to the UTC hour they start in (their counts cannot be split between two hours).
WITH moved AS (
    DELETE FROM report_hours WHERE bucket <> date_trunc('hour', bucket, 'UTC')
    RETURNING campaign_id, bucket, version, source_kind, source_id, channel, metric, detail, n
)
INSERT INTO report_hours AS r (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail, n)
SELECT campaign_id, date_trunc('hour', bucket, 'UTC'), version, source_kind, source_id, channel, metric, detail, sum(n)
  FROM moved GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail)
DO UPDATE SET n = r.n + excluded.n;
