/**
 * Heartbeats that stop when the work under them is stuck. A long activity (a trigger dispatcher, a
 * run's delivery) heartbeats on an interval, so a slow batch does not outlive the heartbeat timeout,
 * but only while the work has advanced within `stuckMs`: a batch stuck for good (a lock, a hung
 * connection) stops heartbeating, Temporal's heartbeat timeout fails the attempt and retries it,
 * instead of an attempt that looks alive for ever.
 */
import { log, type Context } from '@temporalio/activity';

/**
 * How long work may go without advancing before its heartbeats stop: longer than the slowest
 * legitimate step (a wave of webhook sends, each up to 5 attempts of 5 s with back-off, or a large
 * audience snapshot), shorter than the worker's statement timeout (runtime/pools.ts).
 */
export const STUCK_AFTER_MS = 90_000;

export interface ProgressWatch {
  /** The work moved on (a message sent, a batch committed, a poll of the queue). */
  advance(): void;
  /** Stops the heartbeats (in a `finally`). */
  stop(): void;
}

export function watchProgress(
  ctx: Context,
  details: () => unknown,
  options: { everyMs?: number; stuckMs?: number } = {},
): ProgressWatch {
  const stuckMs = options.stuckMs ?? STUCK_AFTER_MS;
  const everyMs =
    options.everyMs ?? Math.max(200, Math.min(2000, (ctx.info.heartbeatTimeoutMs ?? 10_000) / 5));
  let advancedAt = Date.now();
  let said = false;
  ctx.heartbeat(details());
  const timer = setInterval(() => {
    const idleMs = Date.now() - advancedAt;
    if (idleMs <= stuckMs) {
      ctx.heartbeat(details());
    } else if (!said) {
      said = true;
      log.warn('no progress: heartbeats stop so that the attempt times out and is retried', { idleMs });
    }
  }, everyMs);
  return {
    advance() {
      advancedAt = Date.now();
      said = false;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
