/**
 * The campaigns read model: with ./campaign-projection, the one place that writes the `campaigns`,
 * `campaign_versions` and `campaign_events` tables. The workflow writes through `project` there (a
 * local activity); the API reads through this file. Three stores also read them inside their own
 * statements, where the read must share the statement or transaction: the trigger stores (a call's
 * target and live version in triggers/store/index.ts and accept.ts, a version's content in
 * dispatch.ts) and the run store (the live version of a cancelled run in delivery/store/runs.ts). A
 * new column touches these two files and the migration, and those reads only if they need it.
 */
import type { Pool } from 'pg';
import type { Prisma, PrismaClient } from '../prisma/client';
import { specOf } from '../domain/lifecycle';
import type { ProjectionFailure, VersionSpec } from '../domain/types';

export type { Projection } from './campaign-projection';

export type CampaignRow = Awaited<ReturnType<PrismaClient['campaign']['findUniqueOrThrow']>>;
export type VersionRow = Awaited<ReturnType<PrismaClient['campaignVersion']['findUniqueOrThrow']>>;
export type HistoryRow = Awaited<ReturnType<PrismaClient['campaignEvent']['findUniqueOrThrow']>>;

/** Filters of the campaign list; every one optional. Archived campaigns only when asked for. */
export interface CampaignFilter {
  status?: CampaignRow['status'];
  hasDraft?: boolean;
  type?: string;
  channel?: string;
  tag?: string;
  /** Case-insensitive substring of the name. */
  q?: string;
}

/** Keyset position in the list (newest first). */
export interface CampaignCursor {
  createdAt: Date;
  id: string;
}

/** Keyset position in a campaign's history (oldest first). */
export interface HistoryCursor {
  at: Date;
  id: bigint;
}

/** The versioned spec stored in a version row (audience and throttle only when set). */
export function specOfRow(row: VersionRow): VersionSpec {
  return specOf({
    content: row.content as VersionSpec['content'],
    schedule: row.schedule as VersionSpec['schedule'],
    audience: (row.audience as VersionSpec['audience'] | null) ?? undefined,
    throttle: row.throttle ?? undefined,
  });
}

/**
 * The campaign row and a version row as Prisma returns them, read with plain SQL: the API reads one
 * or two of them around every lifecycle command, and a prepared statement on the pg pool costs a
 * fraction of Prisma's query building (see BENCHMARKS.md, CPU per lifecycle action).
 */
const FIND_CAMPAIGN = {
  name: 'campaign-by-id',
  text: `SELECT id, workflow_id AS "workflowId", name, description, tags, type, channel, category, status,
                live_version AS "liveVersion", has_draft AS "hasDraft", draft, draft_revision AS "draftRevision",
                start_at AS "startAt", end_at AS "endAt", origin_campaign_id AS "originCampaignId",
                origin_version AS "originVersion", finished_as AS "finishedAs", stop_receipt AS "stopReceipt",
                projection_error AS "projectionError", revision, created_by AS "createdBy",
                created_at AS "createdAt", updated_at AS "updatedAt"
           FROM campaigns WHERE id = $1::uuid`,
};
const FIND_VERSION = {
  name: 'campaign-version',
  text: `SELECT campaign_id AS "campaignId", number, content, schedule, audience, throttle,
                activated_at AS "activatedAt", activated_by AS "activatedBy", based_on AS "basedOn"
           FROM campaign_versions WHERE campaign_id = $1::uuid AND number = $2::int`,
};

export function campaignStore(prisma: PrismaClient, pool: Pool) {
  return {
    /**
     * Records on the campaign row that the workflow gave up projecting `failure.revision` (a
     * statement of its own, which succeeds where the projection could not: it touches no other
     * column). Nothing happens when the row is missing (its creation was the change that failed) or
     * has already moved past that revision.
     */
    async recordProjectionFailure(campaignId: string, failure: ProjectionFailure): Promise<void> {
      await prisma.$executeRaw`
        UPDATE campaigns SET projection_error = ${JSON.stringify(failure)}::jsonb
         WHERE id = ${campaignId}::uuid AND revision < ${failure.revision}`;
    },

    async find(id: string): Promise<CampaignRow | null> {
      const { rows } = await pool.query<CampaignRow>({ ...FIND_CAMPAIGN, values: [id] });
      return rows[0] ?? null;
    },

    /** A page of campaigns, newest first; one row more than `limit` tells that a next page exists. */
    list(filter: CampaignFilter, limit: number, after?: CampaignCursor): Promise<CampaignRow[]> {
      const where: Prisma.CampaignWhereInput = {
        status: filter.status ?? { not: 'archived' },
        ...(filter.hasDraft !== undefined ? { hasDraft: filter.hasDraft } : {}),
        ...(filter.type ? { type: filter.type } : {}),
        ...(filter.channel ? { channel: filter.channel } : {}),
        ...(filter.tag ? { tags: { has: filter.tag } } : {}),
        ...(filter.q ? { name: { contains: filter.q, mode: 'insensitive' } } : {}),
      };
      const page: Prisma.CampaignWhereInput | undefined = after && {
        OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
      };
      return prisma.campaign.findMany({
        where: page ? { AND: [where, page] } : where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
      });
    },

    async version(campaignId: string, number: number): Promise<VersionRow | null> {
      const { rows } = await pool.query<VersionRow>({ ...FIND_VERSION, values: [campaignId, number] });
      return rows[0] ?? null;
    },

    versions(campaignId: string): Promise<VersionRow[]> {
      return prisma.campaignVersion.findMany({ where: { campaignId }, orderBy: { number: 'asc' } });
    },

    /** Whether the history records a delete of the campaign. */
    async wasDeleted(campaignId: string): Promise<boolean> {
      const found = await prisma.campaignEvent.findFirst({
        where: { campaignId, action: 'delete' },
        select: { id: true },
      });
      return found !== null;
    },

    /**
     * A page of the audit trail, oldest first (kept after a delete); one row more than `limit`
     * tells that a next page exists.
     */
    history(campaignId: string, limit: number, after?: HistoryCursor): Promise<HistoryRow[]> {
      return prisma.campaignEvent.findMany({
        where: {
          campaignId,
          ...(after ? { OR: [{ at: { gt: after.at } }, { at: after.at, id: { gt: after.id } }] } : {}),
        },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
        take: limit + 1,
      });
    },
  };
}

export type CampaignStore = ReturnType<typeof campaignStore>;
