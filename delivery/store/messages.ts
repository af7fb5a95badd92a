/**
 * What campaigns sent, as the API reads it: runs with message counts, and messages page by page.
 * Delivery writes these tables with its own bulk SQL on the hot path (./runs.ts).
 */
import type { PrismaClient } from '../../prisma/client';

export type RunRow = Awaited<ReturnType<PrismaClient['campaignRun']['findUniqueOrThrow']>>;
export type MessageRow = Awaited<ReturnType<PrismaClient['message']['findUniqueOrThrow']>>;

export interface MessageFilter {
  run?: number;
  status?: string;
}

/** Keyset position in a campaign's messages (run, then recipient). */
export interface MessageCursor {
  runNumber: number;
  profileId: string;
}

/** A message a provider event names, as the lookup finds it (keyed like the event's message key). */
export interface MessageRef {
  key: string;
  c: string;
  v: number;
  source: 'run' | 'execution';
  source_id: string;
  recipient: string;
  profile: string | null;
}

/** The run messages named by (campaign, run, profile) keys, each keyed `campaign:run:profile`. */
export function runMessagesNamed(
  prisma: PrismaClient,
  keys: Array<{ campaignId: string; run: number; recipient: string }>,
): Promise<MessageRef[]> {
  return prisma.$queryRawUnsafe<MessageRef[]>(
    `SELECT m.campaign_id::text || ':' || m.run_number || ':' || m.profile_id AS key, m.campaign_id::text AS c,
            m.version AS v, 'run' AS source, m.run_number::text AS source_id, m.profile_id AS recipient,
            m.profile_id AS profile
       FROM messages m JOIN unnest($1::uuid[], $2::int[], $3::text[]) AS k(c, n, p)
         ON m.campaign_id = k.c AND m.run_number = k.n AND m.profile_id = k.p`,
    keys.map((e) => e.campaignId),
    keys.map((e) => e.run),
    keys.map((e) => e.recipient),
  );
}

export function deliveryStore(prisma: PrismaClient) {
  return {
    /**
     * A page of runs oldest first (after run number `after`), each with its message counts by
     * status; one row more than `limit` tells that a next page exists.
     */
    async runs(
      campaignId: string,
      limit: number,
      after?: number,
    ): Promise<Array<RunRow & { counts: Record<string, number> }>> {
      const runs = await prisma.campaignRun.findMany({
        where: { campaignId, ...(after !== undefined ? { number: { gt: after } } : {}) },
        orderBy: { number: 'asc' },
        take: limit + 1,
      });
      const counts = runs.length
        ? await prisma.message.groupBy({
            by: ['runNumber', 'status'],
            where: { campaignId, runNumber: { in: runs.map((r) => r.number) } },
            _count: true,
          })
        : [];
      return runs.map((run) => ({
        ...run,
        counts: Object.fromEntries(
          counts.filter((c) => c.runNumber === run.number).map((c) => [c.status, c._count]),
        ),
      }));
    },

    /** A page of messages; one row more than `limit` tells that a next page exists. */
    messages(
      campaignId: string,
      filter: MessageFilter,
      limit: number,
      after?: MessageCursor,
    ): Promise<MessageRow[]> {
      return prisma.message.findMany({
        where: {
          campaignId,
          ...(filter.run ? { runNumber: filter.run } : {}),
          ...(filter.status ? { status: filter.status } : {}),
          ...(after
            ? {
                OR: [
                  { runNumber: { gt: after.runNumber } },
                  { runNumber: after.runNumber, profileId: { gt: after.profileId } },
                ],
              }
            : {}),
        },
        orderBy: [{ runNumber: 'asc' }, { profileId: 'asc' }],
        take: limit + 1,
      });
    },
  };
}

export type DeliveryStore = ReturnType<typeof deliveryStore>;
