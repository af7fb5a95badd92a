import { shutdownTimeoutMs } from './config';
import { logger } from './logger';

export interface Stoppable {
  stop(): Promise<void>;
}

/** Message for a failed start: config/setup errors are one clear sentence, never a stack trace. */
export function describeStartupError(error: unknown): string {
  const e = error as Error;
  if (['ConfigError', 'SetupError', 'MigrationError'].includes(e?.name)) return e.message;
  return `Unexpected failure: ${e?.message ?? String(error)}`;
}

/**
 * Starts a part of the service, then stops it cleanly on SIGINT/SIGTERM, in bounded time: a stop that
 * has not finished within `boundMs` (SHUTDOWN_TIMEOUT, e.g. an activity stuck past the worker's grace
 * time) is given up on, said, and the process exits 1. A failed start prints one sentence and
 * exits 1.
 */
export async function runUntilSignal(
  what: string,
  start: () => Promise<Stoppable>,
  boundMs = shutdownTimeoutMs(),
): Promise<void> {
  let part: Stoppable;
  try {
    part = await start();
  } catch (error) {
    process.stderr.write(`${what}: ${describeStartupError(error)}\n`);
    process.exit(1);
  }
  // A supervisor that forked us (toolchain/process-cluster.ts) waits for this before counting us up.
  process.send?.('ready');
  let stopping = false;
  const stop = async (signal: string) => {
    // A supervisor's SIGTERM after the terminal's SIGINT is the same stop, still bounded.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${what} shutting down`);
    setTimeout(() => {
      logger.error({ boundMs }, `${what} did not stop within the shutdown bound; exiting`);
      process.exit(1);
    }, boundMs).unref();
    await part.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
