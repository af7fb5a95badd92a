/**
 * The campaigns read model: the one module that writes and reads the `campaigns`,
 * `campaign_versions` and `campaign_events` tables. The workflow writes through `project` (a local
 * activity); the API reads through the rest. A new column touches this file and the migration only.
 */
import { Prisma, type PrismaClient } from '../prisma/client';
import { specOf } from '../domain/lifecycle';
import type {
  CampaignEvent,
  CampaignVersion,
  CampaignView,
  ProjectionFailure,
  VersionSpec,
} from '../domain/types';
import { campaignWorkflowId } from '../workflows/messages';

/** One accepted change, as the workflow hands it to the projection. */
export interface Projection {
  campaign: CampaignView;
  event: CampaignEvent;
  /** Present when the change created a version (activation). */
  version?: CampaignVersion;
}

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

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

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
     * Projects an accepted change, in one transaction. Idempotent and order-independent: the
     * campaign row only moves to a higher revision; versions and history rows are keyed by
     * (campaign, number) and (campaign, request id).
     */
    async project({ campaign: c, event, version }: Projection): Promise<void> {
      const history = prisma.campaignEvent.createMany({
        data: [
          {
            campaignId: c.id,
            requestId: event.requestId,
            action: event.action,
            actor: event.actor,
            version: event.version,
            at: new Date(event.at),
          },
        ],
        skipDuplicates: true,
      });
      if (c.deleted) {
        // The campaign row goes; its history stays, with the delete recorded.
        await prisma.$transaction([prisma.campaign.deleteMany({ where: { id: c.id } }), history]);
        return;
      }
      const live = c.live;
      await prisma.$transaction([
        prisma.$executeRaw`
          INSERT INTO campaigns (id, workflow_id, name, description, tags, type, category, channel, status,
                                 live_version, has_draft, draft, draft_revision, start_at, end_at,
                                 origin_campaign_id, origin_version, finished_as, stop_receipt,
                                 revision, created_by, created_at, updated_at)
          VALUES (${c.id}::uuid, ${campaignWorkflowId(c.id)}, ${c.name}, ${c.description}, ${c.tags},
                  ${c.type}, ${c.category ?? null}, ${c.channel}, ${c.status}, ${live?.number ?? null}, ${c.draft !== null},
                  ${json(c.draft)}::jsonb, ${c.draft?.revision ?? null},
                  ${live?.schedule.startAt ? new Date(live.schedule.startAt) : null},
                  ${live?.schedule.endAt ? new Date(live.schedule.endAt) : null},
                  ${c.origin?.campaignId ?? null}::uuid, ${c.origin?.version ?? null},
                  ${c.finishedAs}, ${json(c.stop)}::jsonb, ${c.revision}, ${c.createdBy},
                  ${new Date(c.createdAt)}, ${new Date(c.updatedAt)})
          ON CONFLICT (id) DO UPDATE SET
            name = EXCLUDED.name, description = EXCLUDED.description, tags = EXCLUDED.tags,
            status = EXCLUDED.status, live_version = EXCLUDED.live_version,
            has_draft = EXCLUDED.has_draft, draft = EXCLUDED.draft,
            draft_revision = EXCLUDED.draft_revision, start_at = EXCLUDED.start_at,
            end_at = EXCLUDED.end_at, finished_as = EXCLUDED.finished_as,
            stop_receipt = EXCLUDED.stop_receipt, revision = EXCLUDED.revision,
            updated_at = EXCLUDED.updated_at, projection_error = NULL
          WHERE campaigns.revision < EXCLUDED.revision`,
        ...(version
          ? [
              prisma.campaignVersion.createMany({
                data: [
                  {
                    campaignId: c.id,
                    number: version.number,
                    content: version.content as object,
                    schedule: version.schedule as object,
                    audience: version.audience ? (version.audience as object) : Prisma.DbNull,
                    throttle: version.throttle ?? null,
                    activatedAt: new Date(version.activatedAt),
                    activatedBy: version.activatedBy,
                    basedOn: version.basedOn,
                  },
                ],
                skipDuplicates: true,
              }),
            ]
          : []),
        history,
      ]);
    },

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
