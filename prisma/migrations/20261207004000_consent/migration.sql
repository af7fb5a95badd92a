-- Consent as a ledger (docs/architecture.md, "Guarantees"): every change of a profile's marketing
-- consent is a row of consent_changes (who, when, from which source); profiles.consent is the current
-- status derived from it, and profiles.subscribed (what the send paths read) follows it, both updated
-- in the same transaction as the row. Consent is per profile, for every channel.

-- subscribed | unsubscribed | suppressed (a hard bounce or a complaint)
ALTER TABLE "profiles" ADD COLUMN "consent" TEXT NOT NULL DEFAULT 'subscribed';

CREATE TABLE "consent_changes" (
    "id" BIGSERIAL NOT NULL,
    "profile_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "note" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consent_changes_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "consent_changes_profile_id_id_idx" ON "consent_changes"("profile_id", "id");
ALTER TABLE "consent_changes" ADD CONSTRAINT "consent_changes_profile_id_fkey" FOREIGN KEY ("profile_id")
    REFERENCES "profiles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing data: a profile that is not subscribed gets the status and the ledger row its latest
-- unsubscribe, hard bounce or complaint on a run message says (an execution's recipient is an index,
-- not a profile); one with none of them is recorded as unsubscribed by the migration.
WITH latest AS (
    SELECT p.id, e.kind, e.at, e.campaign_id, e.source_id
      FROM profiles p
      LEFT JOIN LATERAL (
          SELECT t.kind, t.at, t.campaign_id, t.source_id FROM tracking_events t
           WHERE t.source_kind = 'run' AND t.recipient = p.id
             AND (t.kind IN ('unsubscribe', 'complaint') OR (t.kind = 'bounce' AND t.reason = 'hard'))
           ORDER BY t.at DESC, t.id DESC LIMIT 1) e ON true
     WHERE NOT p.subscribed
), marked AS (
    UPDATE profiles p
       SET consent = CASE WHEN l.kind IN ('bounce', 'complaint') THEN 'suppressed' ELSE 'unsubscribed' END
      FROM latest l WHERE p.id = l.id
)
INSERT INTO consent_changes (profile_id, status, source, actor, note, at)
SELECT l.id,
       CASE WHEN l.kind IN ('bounce', 'complaint') THEN 'suppressed' ELSE 'unsubscribed' END,
       CASE l.kind WHEN 'unsubscribe' THEN 'unsubscribe_link' WHEN 'bounce' THEN 'bounce'
                   WHEN 'complaint' THEN 'complaint' ELSE 'migration' END,
       CASE WHEN l.kind = 'unsubscribe' THEN 'recipient' ELSE 'migration' END,
       CASE WHEN l.kind IS NULL THEN 'not subscribed before consent was kept as a ledger'
            ELSE 'campaign ' || l.campaign_id || ', run ' || l.source_id END,
       coalesce(l.at, p.updated_at)
  FROM latest l JOIN profiles p ON p.id = l.id;

ALTER TABLE "profiles" ADD CONSTRAINT "profiles_consent_check"
    CHECK ("consent" IN ('subscribed', 'unsubscribed', 'suppressed'));
ALTER TABLE "consent_changes" ADD CONSTRAINT "consent_changes_status_check"
    CHECK ("status" IN ('subscribed', 'unsubscribed', 'suppressed'));
