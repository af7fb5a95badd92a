-- Reports count executions' messages too: an execution message is inserted `queued` (or `refused`)
-- and gets its outcome by an UPDATE, so its counters move when a row leaves `queued`, under source
-- kind "execution" and the execution's id, at the minute it was sent (or now).
CREATE FUNCTION report_execution_messages_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    deltas report_delta[];
BEGIN
    SELECT array_agg(ROW(campaign_id, version, 'execution', execution_id::text, at, channel, status, detail, n)::report_delta)
      INTO deltas
      FROM (SELECT m.campaign_id, m.version, m.execution_id, min(coalesce(m.sent_at, now())) AS at,
                   coalesce(c.channel, '') AS channel, m.status, coalesce(m.reason, '') AS detail, count(*) AS n
              FROM new_rows m
              JOIN old_rows o ON o.execution_id = m.execution_id AND o.recipient = m.recipient
              LEFT JOIN campaigns c ON c.id = m.campaign_id
             WHERE o.status = 'queued' AND m.status <> 'queued'
             GROUP BY m.campaign_id, m.version, m.execution_id, date_trunc('minute', coalesce(m.sent_at, now())),
                      c.channel, m.status, m.reason) x;
    IF deltas IS NOT NULL THEN
        PERFORM report_bump(deltas);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER execution_messages_counted AFTER UPDATE ON "execution_messages"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_execution_messages_updated();
