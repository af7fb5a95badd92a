/**
 * The PostgreSQL pools of the worker and the API, sized and bounded in one place. A pool that cannot
 * hand out a connection within `POOL_CONNECTION_TIMEOUT_MS` rejects (an activity fails and Temporal
 * retries it; an API request fails with a 500) instead of waiting for ever. The worker's pool is
 * derived from its activity slots: a connection per slot, and a spare. No transaction takes a second
 * connection inside it, so a full pool only makes a new transaction wait (at most the timeout), never
 * one waiting on another; an outbox run's parallel lanes (3 transactions) and a dispatcher's outcome
 * callbacks beside its batch are what can ask for more than one connection per slot.
 */
import { Pool } from 'pg';
import { logger } from './logger';

/** How long a query waits for a pooled connection before it fails. */
export const POOL_CONNECTION_TIMEOUT_MS = 10_000;
/**
 * On the worker's connections, server-side bounds on work that is stuck: a statement (a lock wait)
 * fails after 2 minutes, a transaction left idle (a batch whose sending hangs) is ended after 5.
 */
export const WORKER_STATEMENT_TIMEOUT_MS = 120_000;
export const WORKER_IDLE_IN_TRANSACTION_TIMEOUT_MS = 300_000;
/** The API's pool (each API process). */
export const API_POOL_SIZE = 20;

/** Connections beside the slots: a dispatcher's outcome callbacks and due-time reads next to its batch. */
const WORKER_POOL_SPARE = 2;

/** The worker's pool size for its slots: one connection per activity and local activity slot, and a spare. */
export function workerPoolSize(slots: { activities: number; localActivities: number }): number {
  return slots.activities + slots.localActivities + WORKER_POOL_SPARE;
}

/** A pool with a connection timeout; an idle connection the server closes is logged, not fatal. */
export function createPool(
  connectionString: string,
  max: number,
  options: { connectionTimeoutMillis?: number; worker?: boolean } = {},
): Pool {
  const pool = new Pool({
    connectionString,
    max,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? POOL_CONNECTION_TIMEOUT_MS,
    ...(options.worker
      ? {
          statement_timeout: WORKER_STATEMENT_TIMEOUT_MS,
          idle_in_transaction_session_timeout: WORKER_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        }
      : {}),
  });
  pool.on('error', (error: Error & { code?: string }) =>
    logger.warn({ code: error.code, reason: error.message }, 'idle PostgreSQL connection closed'),
  );
  return pool;
}
