/**
 * Automatic transitions: the ones no command asks for, which the workflow takes when their time
 * comes (`scheduled` → `live`, each run, `live` → `completed`) or when a run ends. Pure, like
 * ./lifecycle; the workflow sleeps until `nextTransition(state).at`, then calls `tick`.
 */
import { nextRunAt } from './schedule';
import { commit, type Transition } from './transition';
import type { CampaignState, CampaignVersion, RunsState } from './types';

/** What is due next, and when (ISO-8601). */
export interface NextTransition {
  at: string;
  to: 'live' | 'completed' | 'run';
}

/** How the plan is made; each flag is a rule a running workflow adopts through `patched()`. */
export interface PlanRules {
  /**
   * A recurring version's occurrences before its activation never fire: after a recurrence change
   * the next run is the first occurrence after both the last run and the activation. Without it,
   * the occurrences since the last run were due at once (a run for the latest of them).
   */
  fromActivation?: boolean;
}

/**
 * The next automatic transition, if any: `scheduled` → `live` at the start date; a run at each
 * occurrence of the live version's recurrence (campaigns with an audience, one run at a time);
 * `live` → `completed` at the end date (after a run in flight finishes).
 */
export function nextTransition(state: CampaignState, rules: PlanRules = {}): NextTransition | undefined {
  const live = state.live;
  if (state.deleted || !live) return undefined;
  const { startAt, endAt } = live.schedule;
  if (state.status === 'scheduled' && startAt) return { at: startAt, to: 'live' };
  if (state.status !== 'live' || state.runs.active) return undefined;
  const run = nextRun(state, live, undefined, rules);
  if (run && (!endAt || Date.parse(run) < Date.parse(endAt))) return { at: run, to: 'run' };
  if (endAt) return { at: endAt, to: 'completed' };
  return undefined;
}

/**
 * When the live version's next run is due (after `after`, by default after the last run; with
 * `fromActivation`, a recurring version's also at or after its activation), if it has one. A
 * one-shot version runs once: it has run when the last run that ended was of it (or, in a state
 * without `lastVersion`, when any run has started).
 */
function nextRun(
  state: CampaignState,
  live: CampaignVersion,
  after?: Date,
  rules: PlanRules = {},
): string | undefined {
  if (!live.audience || state.type !== 'scheduled') return undefined;
  const recurrence = live.schedule.recurrence ?? { kind: 'once' as const };
  if (recurrence.kind === 'once' && oneShotHasRun(state, live)) return undefined;
  const activatedAt = Date.parse(live.activatedAt);
  const lastRunAt = state.runs.lastRunAt ? Date.parse(state.runs.lastRunAt) : undefined;
  const floor = rules.fromActivation && recurrence.kind !== 'once' ? activatedAt - 1 : -Infinity;
  after ??= new Date(lastRunAt === undefined ? activatedAt - 1 : Math.max(lastRunAt, floor));
  // A start date already past at activation means "now".
  const { startAt, endAt } = live.schedule;
  const window = {
    ...(startAt && Date.parse(startAt) > activatedAt ? { startAt } : {}),
    ...(endAt ? { endAt } : {}),
  };
  return nextRunAt(recurrence, after, window)?.toISOString();
}

function oneShotHasRun(state: CampaignState, live: CampaignVersion): boolean {
  const { lastVersion, count } = state.runs;
  return lastVersion === undefined ? count > 0 : lastVersion === live.number;
}

/** At most this many overdue occurrences are looked through to find the latest one due. */
const MAX_OVERDUE = 10_000;

/**
 * The run due at `now`: the latest occurrence that is due, and how many earlier ones were due too
 * (missed while the worker was down, while a run was in flight, or made due at once by a
 * recurrence change). Undefined when no run is due.
 */
function dueRun(
  state: CampaignState,
  now: Date,
  rules: PlanRules = {},
): { at: string; skipped: number } | undefined {
  const next = nextTransition(state, rules);
  if (next?.to !== 'run' || Date.parse(next.at) > now.getTime()) return undefined;
  const live = state.live!;
  if ((live.schedule.recurrence ?? { kind: 'once' }).kind === 'once') return { at: next.at, skipped: 0 };
  let at = next.at;
  let skipped = 0;
  while (skipped < MAX_OVERDUE) {
    const later = nextRun(state, live, new Date(at));
    if (!later || Date.parse(later) > now.getTime()) break;
    at = later;
    skipped++;
  }
  return { at, skipped };
}

/**
 * How many occurrences due at `now` a coalescing `tick` would skip (0 when at most one is due):
 * the workflow asks before deciding whether coalescing applies.
 */
export function missedOccurrences(state: CampaignState, now: Date, rules: PlanRules = {}): number {
  return dueRun(state, now, rules)?.skipped ?? 0;
}

/**
 * Whether `fromActivation` changes the plan of `state` (an occurrence before the live version's
 * activation would be next): the workflow asks `patched()` only then.
 */
export function fromActivationMatters(state: CampaignState): boolean {
  const before = nextTransition(state);
  const after = nextTransition(state, { fromActivation: true });
  return before?.at !== after?.at || before?.to !== after?.to;
}

/** How `tick` behaves; each flag is a rule a running workflow adopts through `patched()`. */
export interface TickRules extends PlanRules {
  /**
   * With several occurrences overdue, start one run for the latest and skip the others (counted
   * in `runs.skipped` and the run's `skipped`). Without it, each overdue occurrence is a run of its
   * own, back to back.
   */
  coalesce?: boolean;
}

/** Applies the automatic transition due at `now`, if any. */
export function tick(state: CampaignState, now: Date, rules: TickRules = {}): Transition | undefined {
  const next = nextTransition(state, rules);
  if (!next || Date.parse(next.at) > now.getTime()) return undefined;
  const live = state.live!;
  if (next.to === 'run') {
    const number = state.runs.count + 1;
    const due = rules.coalesce ? dueRun(state, now, rules)! : { at: next.at, skipped: 0 };
    const skipped = (state.runs.skipped ?? 0) + due.skipped;
    const runs: RunsState = {
      ...state.runs,
      count: number,
      active: {
        number,
        version: live.number,
        startedAt: now.toISOString(),
        ...(due.skipped ? { skipped: due.skipped } : {}),
      },
      lastRunAt: due.at,
      ...(skipped ? { skipped } : {}),
    };
    return {
      ...commit(state, { requestId: `run-${number}`, actor: 'system' }, now, 'run-start', { runs }),
      run: { number, version: live },
    };
  }
  const action = next.to === 'live' ? 'start' : 'complete';
  // A deterministic request id: the same automatic step is recorded once.
  const requestId = `${action}-v${live.number}`;
  const changes: Partial<CampaignState> =
    next.to === 'completed' ? { status: 'completed', draft: null } : { status: 'live' };
  return commit(state, { requestId, actor: 'system' }, now, action, changes);
}

/** How `endRun` behaves; each flag is a rule a running workflow adopts through `patched()`. */
export interface EndRunRules {
  /**
   * Only a run of the live version completes a one-shot campaign (a one-shot version activated
   * while an earlier version's run was in flight gets a run of its own), and the ended run's
   * version is remembered in `runs.lastVersion`. Without it, any run's end completes a campaign
   * whose live version is one-shot.
   */
  liveVersionOnly?: boolean;
}

/**
 * Records the end of run `number` (its child workflow completed, was cancelled or failed). A
 * one-shot campaign is then `completed` (with `liveVersionOnly`: when the run was of the live
 * version). Applies whatever the status (a run may end after a stop); undefined when that run is
 * not the one in flight.
 */
export function endRun(
  state: CampaignState,
  number: number,
  outcome: 'completed' | 'cancelled' | 'failed',
  now: Date,
  rules: EndRunRules = {},
): Transition | undefined {
  const active = state.runs.active;
  if (active?.number !== number) return undefined;
  const oneShot = (state.live?.schedule.recurrence ?? { kind: 'once' }).kind === 'once';
  const ofLive = !rules.liveVersionOnly || active.version === state.live?.number;
  const changes: Partial<CampaignState> = {
    runs: { ...state.runs, active: null, ...(rules.liveVersionOnly ? { lastVersion: active.version } : {}) },
    ...(state.status === 'live' && oneShot && ofLive ? { status: 'completed' as const, draft: null } : {}),
  };
  const t = commit(
    state,
    { requestId: `run-${number}-${outcome}`, actor: 'system' },
    now,
    `run-${outcome}`,
    changes,
  );
  return { ...t, event: { ...t.event, version: active.version } };
}
