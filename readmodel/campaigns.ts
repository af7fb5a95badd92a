/**
 * The campaigns read model: with ./campaign-projection, the one place that writes and reads the
 * `campaigns`, `campaign_versions` and `campaign_events` tables. The workflow writes through
 * `project` there (a local activity); the API reads through this file. A new column touches these
 * two files and the migration only.
 */
import { Prisma, type PrismaClient } from '../prisma/client';
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

/** The versioned spec stored in a version row (audience and throttle only when set). */
export function specOfRow(row: VersionRow): VersionSpec {
  return specOf({
    content: row.content as VersionSpec['content'],
    schedule: row.schedule as VersionSpec['schedule'],
    audience: (row.audience as VersionSpec['audience'] | null) ?? undefined,
    throttle: row.throttle ?? undefined,
  });
}

export function campaignStore(prisma: PrismaClient) {
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

    find(id: string): Promise<CampaignRow | null> {
      return prisma.campaign.findUnique({ where: { id } });
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

    version(campaignId: string, number: number): Promise<VersionRow | null> {
      return prisma.campaignVersion.findUnique({ where: { campaignId_number: { campaignId, number } } });
    },

    versions(campaignId: string): Promise<VersionRow[]> {
      return prisma.campaignVersion.findMany({ where: { campaignId }, orderBy: { number: 'asc' } });
    },

    /** The audit trail, oldest first (kept after a delete). */
    history(campaignId: string): Promise<HistoryRow[]> {
      return prisma.campaignEvent.findMany({
        where: { campaignId },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
      });
    },
  };
}

export type CampaignStore = ReturnType<typeof campaignStore>;
