/**
 * What `npm start` and `npm run start:cluster` started, stopped in reverse order on SIGINT or
 * SIGTERM (once, however many signals come), or by the caller after a failed start. The stop is
 * bounded (SHUTDOWN_TIMEOUT, 25 s by default): each part gets what is left of the bound, less a
 * reserve for the parts after it, and a part that has not stopped by then is given up on (said) so
 * the parts after it (PostgreSQL, Temporal) still stop; the process then exits.
 */
import { shutdownTimeoutMs } from '../runtime/config';
import { say } from './common';

/** Kept for each part still to stop after the one stopping: the services at the end stop quickly. */
const RESERVE_PER_PART_MS = 2_000;

export function stopInReverseOnSignal(options: { verbose?: boolean; boundMs?: number } = {}) {
  const cleanups: Array<{ what: string; stop: () => Promise<void> }> = [];
  const boundMs = options.boundMs ?? shutdownTimeoutMs();
  const stopAll = async (verbose = options.verbose ?? false) => {
    const deadline = Date.now() + boundMs;
    const parts = cleanups.reverse();
    for (const [i, { what, stop }] of parts.entries()) {
      const t = Date.now();
      const budget = Math.max(1_000, deadline - t - RESERVE_PER_PART_MS * (parts.length - 1 - i));
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        stop().then(
          () => 'stopped',
          (error: Error) => `failed: ${error.message}`,
        ),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve(`did not stop within ${budget} ms; going on`), budget);
        }),
      ]);
      clearTimeout(timer);
      if (outcome !== 'stopped') say(`stopping ${what} ${outcome}`);
      else if (verbose) say(`stopped ${what} (${Date.now() - t} ms)`);
    }
  };
  let stopping = false;
  const onSignal = (signal: string) => {
    // Once: a Ctrl-C reaches us both from the terminal and relayed by npm/tsx. The stop is bounded.
    if (stopping) return;
    stopping = true;
    say(`${signal}: shutting down…`);
    void stopAll().then(() => {
      say('stopped.');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return {
    /** Registers something to stop (after everything registered later). */
    add(what: string, stop: () => Promise<void>) {
      cleanups.push({ what, stop });
    },
    stopAll,
    /** Stops everything as a signal would (e.g. when the worker fails). */
    onSignal,
  };
}
