/**
 * The `patched()` ids of the campaign workflow: each names a change to what a running workflow
 * does. A workflow evaluates `wf.patched(id)` where the change matters and passes the answer to the
 * pure domain as a flag; histories recorded before the change replay with the old behaviour
 * (test/replay.test.ts proves it on test/histories/). Never rename or reuse an id. Bundle-safe.
 */
export const PATCHES = {
  /** Several overdue occurrences start one run, for the latest (domain/automatic.ts `tick`). */
  coalesceRuns: 'runs-coalesce',
  /** Only a run of the live version completes a one-shot campaign (`endRun`); `runs.lastVersion`. */
  runEndLiveVersion: 'run-end-live-version',
  /**
   * A cancel stop cancels the child of the run whose row it cancelled; a run started while it
   * awaited `cancelRun` is cancelled row first, then child (before: that newer child was cancelled
   * with its row left running and uncounted).
   */
  stopCancelsItsRun: 'stop-cancels-its-run',
  /** A command (a signal) whose text or integers break the input rules is refused: INVALID_INPUT. */
  inputRule: 'input-rule',
  /** A projection given up on after bounded retries is recorded (projectionFailure), not retried for ever. */
  boundedProjection: 'projection-bounded',
  /** An api_triggered campaign's stop closes its trigger queue first and counts it in the receipt. */
  triggerQueue: 'trigger-queue',
  /** An api_triggered campaign's templates may use the call's `{{context.x}}` (review). */
  callContext: 'call-context',
  /** After sending, the operator card shows the live version's report figures, read once a minute for an hour. */
  headlineFigures: 'headline-figures',
  /** Numbers inside `content.contextSchema` may be any JSON number, not only int4 (domain/input.ts). */
  schemaNumbers: 'schema-numbers',
} as const;
