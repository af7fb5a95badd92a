/**
 * Workflow time. Inside the workflow sandbox `Date` is Temporal's deterministic replacement (the
 * time of the current workflow task, replayed identically); every clock read in workflow code goes
 * through here. Bundle-safe.
 */
export const workflowNow = (): Date => new Date();
