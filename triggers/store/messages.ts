/**
 * The execution messages a tracking event names (reports/store.ts): looked up on the API's
 * Prisma client, like the rest of tracking. The queue's other statements are in ./index.ts,
 * ./accept.ts and ./dispatch.ts.
 */
import type { MessageRef } from '../../delivery/store/messages';
import type { PrismaClient } from '../../prisma/client';

/** The profile an execution's recipient names (none for a message sent to an address alone). */
export async function executionMessageProfile(
  prisma: PrismaClient,
  executionId: string,
  recipient: number,
): Promise<string | null | undefined> {
  const rows = await prisma.$queryRaw<Array<{ profile_id: string | null }>>`
    SELECT profile_id FROM execution_messages
     WHERE execution_id = ${executionId}::uuid AND recipient = ${recipient}`;
  return rows[0]?.profile_id;
}

/** The execution messages named by (execution, recipient) keys, each keyed `execution:recipient`. */
export function executionMessagesNamed(
  prisma: PrismaClient,
  keys: Array<{ executionId: string; recipient: number }>,
): Promise<MessageRef[]> {
  return prisma.$queryRawUnsafe<MessageRef[]>(
    `SELECT m.execution_id::text || ':' || m.recipient AS key, m.campaign_id::text AS c, m.version AS v,
            'execution' AS source, m.execution_id::text AS source_id, m.recipient::text AS recipient,
            m.profile_id AS profile
       FROM execution_messages m JOIN unnest($1::uuid[], $2::int[]) AS k(e, r)
         ON m.execution_id = k.e AND m.recipient = k.r`,
    keys.map((e) => e.executionId),
    keys.map((e) => e.recipient),
  );
}
