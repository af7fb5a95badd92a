/**
 * What `npm start` and `npm run start:cluster` started, stopped in reverse order on SIGINT or
 * SIGTERM (once, however many signals come), or by the caller after a failed start.
 */
import { say } from './common';

export function stopInReverseOnSignal(options: { verbose?: boolean } = {}) {
  const cleanups: Array<{ what: string; stop: () => Promise<void> }> = [];
  const stopAll = async (verbose = options.verbose ?? false) => {
    for (const { what, stop } of cleanups.reverse()) {
      const t = Date.now();
      await stop().catch((error: Error) => say(`stopping ${what} failed: ${error.message}`));
      if (verbose) say(`stopped ${what} (${Date.now() - t} ms)`);
    }
  };
  let stopping = false;
  const onSignal = (signal: string) => {
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
