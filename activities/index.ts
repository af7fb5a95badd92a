/**
 * Activities: everything the campaign workflow does outside itself. Built from injected
 * dependencies so tests and the worker share one implementation.
 */
import type { PrismaClient } from '../prisma/client';
import type { Transition } from '../workflows/lifecycle';
import { campaignWorkflowId } from '../workflows/messages';

export function createActivities(prisma: PrismaClient) {
  return {
    /**
     * Projects an accepted change into PostgreSQL. Idempotent and order-independent: the history row
     * is keyed by (campaign, request id), and the campaign row only moves to a higher revision.
     */
    async projectCampaign({ state, event }: Transition): Promise<void> {
      await prisma.$transaction([
        prisma.$executeRaw`
          INSERT INTO campaigns (id, workflow_id, name, description, type, channel, status,
                                 live_version, has_draft, revision, created_by, created_at, updated_at)
          VALUES (${state.id}::uuid, ${campaignWorkflowId(state.id)}, ${state.name}, ${state.description},
                  ${state.type}, ${state.channel}, ${state.status}, ${state.liveVersion},
                  ${state.hasDraft}, ${state.revision}, ${state.createdBy},
                  ${new Date(state.createdAt)}, ${new Date(event.at)})
          ON CONFLICT (id) DO UPDATE SET
            name = EXCLUDED.name, description = EXCLUDED.description, status = EXCLUDED.status,
            live_version = EXCLUDED.live_version, has_draft = EXCLUDED.has_draft,
            revision = EXCLUDED.revision, updated_at = EXCLUDED.updated_at
          WHERE campaigns.revision < EXCLUDED.revision`,
        prisma.campaignEvent.createMany({
          data: [
            {
              campaignId: state.id,
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
