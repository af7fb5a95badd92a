/** What every module that writes with plain SQL on a pg pool shares, and the readiness probe. */
import type { Pool, PoolClient } from 'pg';
import type { PrismaClient } from '../prisma/client';

/** Runs `work` in one transaction on a pooled connection: committed, or rolled back if it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection the server ends while checked out (a PostgreSQL restart during a batch that is
  // sending) emits 'error' on the client; unhandled, it would crash the process. The next query
  // fails anyway; the connection is then discarded rather than returned to the pool.
  let lost: Error | undefined;
  const onError = (error: Error) => (lost = error);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
}

/** A round trip to the database (the API's /readyz). */
export async function ping(prisma: PrismaClient): Promise<void> {
  await prisma.$queryRaw`SELECT 1`;
}
