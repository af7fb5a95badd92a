/**
 * Activities: everything the campaign workflow does outside itself. Built from injected
 * dependencies so tests and the worker share one implementation.
 */
import type { Pool } from 'pg';
import { Prisma, type PrismaClient } from '../prisma/client';
import { campaignWorkflowId } from '../workflows/messages';
import type { CampaignEvent, CampaignState, CampaignVersion } from '../domain/types';

/** One accepted change, as the workflow hands it to the projection. */
export interface Projection {
  campaign: Omit<CampaignState, 'recentRequestIds'>;
  event: CampaignEvent;
  /** Present when the change created a version (activation). */
  version?: CampaignVersion;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

import { createDeliveryActivities, type DeliveryConfig } from './delivery';

export type { DeliveryConfig, RunCounts, RunInput, RunRef } from './delivery';

export interface ActivityDeps {
  prisma: PrismaClient;
  /** A pg pool for the delivery hot path (bulk statements, row locks). */
  pool: Pool;
  delivery: DeliveryConfig;
}

export function createActivities({ prisma, pool, delivery }: ActivityDeps) {
  return {
    ...createDeliveryActivities(pool, delivery),
    /**
     * Projects an accepted change into PostgreSQL, in one transaction. Idempotent and
     * order-independent: the campaign row only moves to a higher revision, versions and history
     * rows are keyed by (campaign, number) and (campaign, request id).
     */
    async projectCampaign({ campaign: c, event, version }: Projection): Promise<void> {
      if (c.deleted) {
        await prisma.campaign.deleteMany({ where: { id: c.id } });
        return;
      }
      const live = c.live;
      await prisma.$transaction([
        prisma.$executeRaw`
          INSERT INTO campaigns (id, workflow_id, name, description, tags, type, channel, status,
                                 live_version, has_draft, draft, draft_revision, start_at, end_at,
                                 origin_campaign_id, origin_version, finished_as, stop_receipt,
                                 revision, created_by, created_at, updated_at)
          VALUES (${c.id}::uuid, ${campaignWorkflowId(c.id)}, ${c.name}, ${c.description}, ${c.tags},
                  ${c.type}, ${c.channel}, ${c.status}, ${live?.number ?? null}, ${c.draft !== null},
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
            updated_at = EXCLUDED.updated_at
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
        prisma.campaignEvent.createMany({
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
        }),
      ]);
    },
  };
}

export type CampaignActivities = ReturnType<typeof createActivities>;
