/**
 * The projection of an accepted change into the campaigns read model (`campaigns`,
 * `campaign_versions`, `campaign_events`): one SQL statement on a pg pool, so one round trip and one
 * implicit transaction, and none of Prisma's query building on the worker's hot path (every lifecycle
 * action runs it once). Idempotent and order-independent: the campaign row only moves to a higher
 * revision; versions and history rows are keyed by (campaign, number) and (campaign, request id).
 */
import type { Pool } from 'pg';
import type { CampaignEvent, CampaignVersion, CampaignView } from '../domain/types';
import { campaignWorkflowId } from '../workflows/messages';

/** One accepted change, as the workflow hands it to the projection. */
export interface Projection {
  campaign: CampaignView;
  event: CampaignEvent;
  /** Present when the change created a version (activation); every projection carries the live one. */
  version?: CampaignVersion;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
/** An instant as stored before (a JavaScript Date: milliseconds, UTC), or null. */
const instant = (value: string | undefined) => (value ? new Date(value).toISOString() : null);

/** The history row, after the campaign's statement ($1 is the campaign id). */
const HISTORY = `
  INSERT INTO campaign_events (campaign_id, request_id, action, actor, version, at)
  VALUES ($1::uuid, $2, $3, $4, $5::int, $6::timestamptz)
  ON CONFLICT (campaign_id, request_id) DO NOTHING`;

/** A delete: the campaign row goes (its versions with it); its history stays, the delete recorded. */
const DELETE = `
  WITH gone AS (DELETE FROM campaigns WHERE id = $1::uuid)
  ${HISTORY}`;

/**
 * Upserts the campaign row (only to a higher revision), inserts the version ($20 null: none) and the
 * history row. A data-modifying WITH: foreign keys are checked at the end of the statement, so the
 * version of a campaign created by the same statement finds its row.
 */
const UPSERT = `
  WITH campaign AS (
    INSERT INTO campaigns (id, workflow_id, name, description, tags, type, category, channel, status,
                           live_version, has_draft, draft, draft_revision, start_at, end_at,
                           origin_campaign_id, origin_version, finished_as, stop_receipt,
                           revision, created_by, created_at, updated_at)
    VALUES ($1::uuid, $7, $8, $9, $10::text[], $11, $12, $13, $14, $15::int, $16::boolean, $17::jsonb,
            $18::int, $19::timestamptz, $20::timestamptz, $21::uuid, $22::int, $23, $24::jsonb, $25::int,
            $26, $27::timestamptz, $28::timestamptz)
    ON CONFLICT (id) DO UPDATE SET
      name = EXCLUDED.name, description = EXCLUDED.description, tags = EXCLUDED.tags,
      status = EXCLUDED.status, live_version = EXCLUDED.live_version,
      has_draft = EXCLUDED.has_draft, draft = EXCLUDED.draft,
      draft_revision = EXCLUDED.draft_revision, start_at = EXCLUDED.start_at,
      end_at = EXCLUDED.end_at, finished_as = EXCLUDED.finished_as,
      stop_receipt = EXCLUDED.stop_receipt, revision = EXCLUDED.revision,
      updated_at = EXCLUDED.updated_at, projection_error = NULL
    WHERE campaigns.revision < EXCLUDED.revision
  ), version AS (
    INSERT INTO campaign_versions (campaign_id, number, content, schedule, audience, throttle,
                                   activated_at, activated_by, based_on)
    SELECT $1::uuid, $29::int, $30::jsonb, $31::jsonb, $32::jsonb, $33::int, $34::timestamptz, $35, $36::int
     WHERE $29::int IS NOT NULL
    ON CONFLICT (campaign_id, number) DO NOTHING
  )
  ${HISTORY}`;

/** Projects an accepted change in one statement (see the module comment). */
export async function project(pool: Pool, { campaign: c, event, version: v }: Projection): Promise<void> {
  const history = [c.id, event.requestId, event.action, event.actor, event.version, event.at];
  if (c.deleted) {
    await pool.query(DELETE, history);
    return;
  }
  const live = c.live;
  await pool.query(UPSERT, [
    ...history,
    campaignWorkflowId(c.id),
    c.name,
    c.description,
    c.tags,
    c.type,
    c.category ?? null,
    c.channel,
    c.status,
    live?.number ?? null,
    c.draft !== null,
    json(c.draft),
    c.draft?.revision ?? null,
    instant(live?.schedule.startAt),
    instant(live?.schedule.endAt),
    c.origin?.campaignId ?? null,
    c.origin?.version ?? null,
    c.finishedAs,
    json(c.stop),
    c.revision,
    c.createdBy,
    c.createdAt,
    c.updatedAt,
    v?.number ?? null,
    json(v?.content),
    json(v?.schedule),
    json(v?.audience),
    v?.throttle ?? null,
    v?.activatedAt ?? null,
    v?.activatedBy ?? null,
    v?.basedOn ?? null,
  ]);
}
