/**
 * Automatic transitions: the ones no command asks for, which the workflow takes when their time
 * comes (`scheduled` → `live`, each run, `live` → `completed`) or when a run ends. Pure, like
 * ./lifecycle; the workflow sleeps until `nextTransition(state).at`, then calls `tick`.
 */
import { nextRunAt } from './schedule';
import { commit, type Transition } from './transition';
import type { CampaignState, CampaignVersion } from './types';

/** What is due next, and when (ISO-8601). */
export interface NextTransition {
  at: string;
  to: 'live' | 'completed' | 'run';
}

/**
 * The next automatic transition, if any: `scheduled` → `live` at the start date; a run at each
 * occurrence of the live version's recurrence (campaigns with an audience, one run at a time);
 * `live` → `completed` at the end date (after a run in flight finishes).
 */
export function nextTransition(state: CampaignState): NextTransition | undefined {
  const live = state.live;
  if (state.deleted || !live) return undefined;
  const { startAt, endAt } = live.schedule;
  if (state.status === 'scheduled' && startAt) return { at: startAt, to: 'live' };
  if (state.status !== 'live' || state.runs.active) return undefined;
  const run = nextRun(state, live);
  if (run && (!endAt || Date.parse(run) < Date.parse(endAt))) return { at: run, to: 'run' };
  if (endAt) return { at: endAt, to: 'completed' };
  return undefined;
}

/** When the live version's next run is due, if it has one. */
function nextRun(state: CampaignState, live: CampaignVersion): string | undefined {
  if (!live.audience || state.type !== 'scheduled') return undefined;
  const recurrence = live.schedule.recurrence ?? { kind: 'once' as const };
  if (recurrence.kind === 'once' && state.runs.count > 0) return undefined;
  const activatedAt = Date.parse(live.activatedAt);
  const after = state.runs.lastRunAt ? new Date(state.runs.lastRunAt) : new Date(activatedAt - 1);
  // A start date already past at activation means "now".
  const { startAt, endAt } = live.schedule;
  const window = {
    ...(startAt && Date.parse(startAt) > activatedAt ? { startAt } : {}),
    ...(endAt ? { endAt } : {}),
  };
  return nextRunAt(recurrence, after, window)?.toISOString();
}

/** Applies the automatic transition due at `now`, if any. */
export function tick(state: CampaignState, now: Date): Transition | undefined {
  const next = nextTransition(state);
  if (!next || Date.parse(next.at) > now.getTime()) return undefined;
  const live = state.live!;
  if (next.to === 'run') {
    const number = state.runs.count + 1;
    const runs = {
      count: number,
      active: { number, version: live.number, startedAt: now.toISOString() },
      lastRunAt: next.at,
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

/**
 * Records the end of run `number` (its child workflow completed, was cancelled or failed). A
 * one-shot campaign is then `completed`. Applies whatever the status (a run may end after a stop);
 * undefined when that run is not the one in flight.
 */
export function endRun(
  state: CampaignState,
  number: number,
  outcome: 'completed' | 'cancelled' | 'failed',
  now: Date,
): Transition | undefined {
  if (state.runs.active?.number !== number) return undefined;
  const oneShot = (state.live?.schedule.recurrence ?? { kind: 'once' }).kind === 'once';
  const changes: Partial<CampaignState> = {
    runs: { ...state.runs, active: null },
    ...(state.status === 'live' && oneShot ? { status: 'completed' as const, draft: null } : {}),
  };
  const t = commit(
    state,
    { requestId: `run-${number}-${outcome}`, actor: 'system' },
    now,
    `run-${outcome}`,
    changes,
  );
  return { ...t, event: { ...t.event, version: state.runs.active.version } };
}
