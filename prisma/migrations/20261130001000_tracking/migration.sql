-- Tracking events and the pre-aggregated report counters (see docs/architecture.md, "Reports").
--
-- Counters are keyed by (campaign, bucket, version, source kind + id, channel, metric, detail):
-- source kind 'run' (id = run number) or 'execution' (id = execution uuid); detail is a reason, a
-- link index, or ''. They are kept by statement-level AFTER INSERT triggers that hand their rows,
-- aggregated, to report_bump(): one call per statement, whatever its size. Reports read counters
-- only, never the message or event rows.

-- One tracking hit (open, click, unsubscribe) or provider report (bounce, complaint).
CREATE TABLE "tracking_events" (
    "id" BIGSERIAL NOT NULL,
    "campaign_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "source_kind" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "link" INTEGER,
    "flag" TEXT NOT NULL DEFAULT 'human',
    "reason" TEXT,
    "ua_class" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tracking_events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "tracking_events_campaign_id_at_idx" ON "tracking_events"("campaign_id", "at");

-- The first counted event of a kind per message (link -1: any link), for unique figures.
CREATE TABLE "tracking_firsts" (
    "campaign_id" UUID NOT NULL,
    "source_kind" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "link" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tracking_firsts_pkey" PRIMARY KEY ("campaign_id","source_kind","source_id","recipient","kind","link")
);

CREATE TABLE "report_minutes" (
    "campaign_id" UUID NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "version" INTEGER NOT NULL,
    "source_kind" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "n" BIGINT NOT NULL,

    CONSTRAINT "report_minutes_pkey" PRIMARY KEY ("campaign_id","bucket","version","source_kind","source_id","channel","metric","detail")
);

CREATE TABLE "report_days" (
    "campaign_id" UUID NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "version" INTEGER NOT NULL,
    "source_kind" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "n" BIGINT NOT NULL,

    CONSTRAINT "report_days_pkey" PRIMARY KEY ("campaign_id","bucket","version","source_kind","source_id","channel","metric","detail")
);

CREATE TABLE "report_hours" (
    "campaign_id" UUID NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "version" INTEGER NOT NULL,
    "source_kind" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "n" BIGINT NOT NULL,

    CONSTRAINT "report_hours_pkey" PRIMARY KEY ("campaign_id","bucket","version","source_kind","source_id","channel","metric","detail")
);

-- The live report's per-minute series, one row per campaign and minute: { metric: n } over every
-- version, source, channel and detail, so 24 hours are 1,440 rows read by the key.
CREATE TABLE "report_series" (
    "campaign_id" UUID NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "sums" JSONB NOT NULL,

    CONSTRAINT "report_series_pkey" PRIMARY KEY ("campaign_id","bucket")
);

-- { k: a[k] + b[k] } over the keys of both.
CREATE FUNCTION report_jsonb_add(a JSONB, b JSONB) RETURNS JSONB LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_object_agg(k, coalesce((a ->> k)::bigint, 0) + coalesce((b ->> k)::bigint, 0))
      FROM (SELECT jsonb_object_keys(a) UNION SELECT jsonb_object_keys(b)) AS keys(k)
$$;

-- One counter increment: `at` is the instant counted (a message's send time, an event's time), so a
-- late event lands in the bucket of its own time.
CREATE TYPE report_delta AS (
    campaign_id UUID, version INTEGER, source_kind TEXT, source_id TEXT, at TIMESTAMPTZ,
    channel TEXT, metric TEXT, detail TEXT, n BIGINT
);

-- Adds deltas to the minute, hour and day counters and the minute series. Rows are upserted in key order, so concurrent
-- statements lock counter rows in the same order and never deadlock each other.
CREATE FUNCTION report_bump(deltas report_delta[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_minutes AS r (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail, n)
    SELECT campaign_id, date_trunc('minute', at), version, source_kind, source_id, channel, metric, detail, sum(n)
      FROM unnest(deltas) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail)
    DO UPDATE SET n = r.n + excluded.n;
    INSERT INTO report_hours AS r (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail, n)
    SELECT campaign_id, date_trunc('hour', at), version, source_kind, source_id, channel, metric, detail, sum(n)
      FROM unnest(deltas) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail)
    DO UPDATE SET n = r.n + excluded.n;
    INSERT INTO report_series AS r (campaign_id, bucket, sums)
    SELECT campaign_id, bucket, jsonb_object_agg(metric, n)
      FROM (SELECT campaign_id, date_trunc('minute', at) AS bucket, metric, sum(n) AS n
              FROM unnest(deltas) GROUP BY 1, 2, 3) x
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (campaign_id, bucket) DO UPDATE SET sums = report_jsonb_add(r.sums, excluded.sums);
    INSERT INTO report_days AS r (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail, n)
    SELECT campaign_id, date_trunc('day', at, 'UTC'), version, source_kind, source_id, channel, metric, detail, sum(n)
      FROM unnest(deltas) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (campaign_id, bucket, version, source_kind, source_id, channel, metric, detail)
    DO UPDATE SET n = r.n + excluded.n;
$$;

-- Messages of runs: one counter per status (metric = status, detail = reason), at the send time (or
-- the time the row was written, for excluded and cancelled ones). Messages are never updated.
-- To count another message table (execution_messages), copy this function with
-- 'execution' / execution_id::text as the source and attach it the same way.
CREATE FUNCTION report_messages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    deltas report_delta[];
BEGIN
    SELECT array_agg(ROW(campaign_id, version, 'run', run_number::text, at, channel, status, detail, n)::report_delta)
      INTO deltas
      FROM (SELECT m.campaign_id, m.version, m.run_number, min(coalesce(m.sent_at, m.created_at)) AS at,
                   coalesce(c.channel, '') AS channel, m.status, coalesce(m.reason, '') AS detail, count(*) AS n
              FROM new_messages m LEFT JOIN campaigns c ON c.id = m.campaign_id
             GROUP BY m.campaign_id, m.version, m.run_number, date_trunc('minute', coalesce(m.sent_at, m.created_at)),
                      c.channel, m.status, m.reason) x;
    PERFORM report_bump(deltas);
    RETURN NULL;
END $$;

CREATE TRIGGER messages_counted AFTER INSERT ON "messages"
    REFERENCING NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION report_messages_inserted();

-- Events: every event counts under its kind and flag; the first human open, click (overall and per
-- link) and unsubscribe of a message, and its first hard bounce, count once more as unique.
--   open  human → opened            open machine_open → opened_machine (detail: reason)
--   click human → clicked (detail: link)   click bot_click → clicked_bot (detail: reason)
--   bounce → bounced_hard | bounced_soft   complaint → complained
--   firsts: opened_unique, clicked_unique, link_clicked_unique (detail: link), unsubscribed,
--           bounced_hard_unique
CREATE FUNCTION report_events_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    deltas report_delta[];
BEGIN
    WITH firsts AS (
        INSERT INTO tracking_firsts (campaign_id, source_kind, source_id, recipient, kind, link, version, at)
        SELECT DISTINCT ON (e.campaign_id, e.source_kind, e.source_id, e.recipient, e.kind, l.link)
               e.campaign_id, e.source_kind, e.source_id, e.recipient, e.kind, l.link, e.version, e.at
          FROM new_events e
          CROSS JOIN LATERAL (SELECT -1 AS link UNION ALL SELECT e.link WHERE e.link IS NOT NULL) l
         WHERE (e.flag = 'human' AND e.kind IN ('open', 'click', 'unsubscribe'))
            OR (e.kind = 'bounce' AND e.reason = 'hard')
         ORDER BY e.campaign_id, e.source_kind, e.source_id, e.recipient, e.kind, l.link, e.at
        ON CONFLICT DO NOTHING
        RETURNING campaign_id, source_kind, source_id, recipient, kind, link, version, at
    ), counted AS (
        SELECT e.campaign_id, e.version, e.source_kind, e.source_id, e.at,
               CASE WHEN e.kind = 'open' AND e.flag = 'human' THEN 'opened'
                    WHEN e.kind = 'open' THEN 'opened_machine'
                    WHEN e.kind = 'click' AND e.flag = 'human' THEN 'clicked'
                    WHEN e.kind = 'click' THEN 'clicked_bot'
                    WHEN e.kind = 'bounce' AND e.reason = 'hard' THEN 'bounced_hard'
                    WHEN e.kind = 'bounce' THEN 'bounced_soft'
                    WHEN e.kind = 'complaint' THEN 'complained'
                    ELSE e.kind END AS metric,
               CASE WHEN e.kind = 'click' AND e.flag = 'human' THEN e.link::text
                    WHEN e.kind IN ('open', 'click') THEN coalesce(e.reason, '')
                    ELSE '' END AS detail
          FROM new_events e WHERE e.kind <> 'unsubscribe'
        UNION ALL
        SELECT f.campaign_id, f.version, f.source_kind, f.source_id, f.at,
               CASE WHEN f.kind = 'open' THEN 'opened_unique'
                    WHEN f.kind = 'click' AND f.link = -1 THEN 'clicked_unique'
                    WHEN f.kind = 'click' THEN 'link_clicked_unique'
                    WHEN f.kind = 'bounce' THEN 'bounced_hard_unique'
                    ELSE 'unsubscribed' END,
               CASE WHEN f.kind = 'click' AND f.link <> -1 THEN f.link::text ELSE '' END
          FROM firsts f
    )
    SELECT array_agg(ROW(x.campaign_id, x.version, x.source_kind, x.source_id, x.at, coalesce(c.channel, ''),
                         x.metric, x.detail, x.n)::report_delta)
      INTO deltas
      FROM (SELECT campaign_id, version, source_kind, source_id, min(at) AS at, metric, detail, count(*) AS n
              FROM counted
             GROUP BY campaign_id, version, source_kind, source_id, date_trunc('minute', at), metric, detail) x
      LEFT JOIN campaigns c ON c.id = x.campaign_id;
    PERFORM report_bump(deltas);
    RETURN NULL;
END $$;

CREATE TRIGGER tracking_events_counted AFTER INSERT ON "tracking_events"
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION report_events_inserted();
