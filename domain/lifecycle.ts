/**
 * The pure campaign state machine: no Temporal imports, no I/O, no clock of its own (callers pass
 * `now`). The workflow applies every command through `apply` and every automatic transition through
 * `tick`, so the whole lifecycle is unit-tested in microseconds without a server.
 */
import { reviewVersion, type FieldError } from './review';
import { nextRunAt } from './schedule';
import type {
  CampaignEvent,
  CampaignState,
  CampaignStatus,
  CampaignVersion,
  Command,
  CreateCampaign,
  DuplicateSource,
  StopReceipt,
  VersionSpec,
} from './types';

export type { FieldError } from './review';

export type LifecycleErrorCode =
  | 'CAMPAIGN_STOPPED'
  | 'CAMPAIGN_READ_ONLY'
  | 'CAMPAIGN_DELETED'
  | 'DRAFT_EXISTS'
  | 'NO_DRAFT'
  | 'NO_LIVE_VERSION'
  | 'NEVER_ACTIVATED'
  | 'ALREADY_ACTIVATED'
  | 'NOT_FINISHED'
  | 'NO_SUCH_VERSION'
  | 'REVISION_MISMATCH'
  | 'REVIEW_FAILED';

/** A refused command. `code` is stable and machine-readable; the API maps it to an HTTP status. */
export class LifecycleError extends Error {
  override name = 'LifecycleError';
  constructor(
    readonly code: LifecycleErrorCode,
    message: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
  }
}

/** The outcome of an accepted command or automatic transition. */
export interface Transition {
  state: CampaignState;
  /** The history entry recording it. */
  event: CampaignEvent;
  /** A version created by this transition (activation), to be stored immutably. */
  version?: CampaignVersion;
  /** A run to start now (the workflow starts its child workflow). */
  run?: { number: number; version: CampaignVersion };
  receipt?: StopReceipt;
  duplicate?: DuplicateSource;
}

/** How many request ids are remembered for idempotency (carried across continue-as-new). */
export const REQUEST_ID_WINDOW = 1000;

const READ_ONLY: readonly CampaignStatus[] = ['completed', 'archived'];

export function createCampaign(command: CreateCampaign, now: Date): Transition {
  const at = now.toISOString();
  const state: CampaignState = {
    id: command.campaignId,
    name: command.name,
    description: command.description ?? '',
    tags: command.tags ?? [],
    type: command.type,
    channel: command.channel,
    status: 'draft',
    live: null,
    draft: {
      ...specOf({
        content: command.content ?? {},
        schedule: command.schedule ?? {},
        audience: command.audience,
        throttle: command.throttle,
      }),
      revision: 1,
      basedOn: null,
      updatedAt: at,
      updatedBy: command.actor,
    },
    versionCount: 0,
    origin: command.origin ?? null,
    finishedAs: null,
    stop: null,
    runs: { count: 0, active: null, lastRunAt: null },
    deleted: false,
    createdBy: command.actor,
    createdAt: at,
    updatedAt: at,
    revision: 1,
    recentRequestIds: [command.requestId],
  };
  return {
    state,
    event: { requestId: command.requestId, action: 'create', actor: command.actor, version: null, at },
  };
}

/** Whether this request id was already applied (the command must then change nothing). */
export function isReplay(state: CampaignState, requestId: string): boolean {
  return state.recentRequestIds.includes(requestId);
}

/** Throws the LifecycleError that refuses `command`, if any. Changes nothing. */
export function check(state: CampaignState, command: Command, now: Date): void {
  if (!isReplay(state, command.requestId)) decide(state, command, now);
}

/**
 * Applies a command. Returns the transition, or `undefined` when the request id was already applied
 * (idempotent replay: nothing changes). Throws a LifecycleError when the command is refused; the
 * state is then untouched.
 */
export function apply(state: CampaignState, command: Command, now: Date): Transition | undefined {
  if (isReplay(state, command.requestId)) return undefined;
  return decide(state, command, now);
}

function decide(state: CampaignState, command: Command, now: Date): Transition {
  guardWritable(state, command);
  switch (command.type) {
    case 'edit': {
      const draft = requireDraft(state);
      if (command.expectedRevision !== undefined && command.expectedRevision !== draft.revision) {
        throw new LifecycleError(
          'REVISION_MISMATCH',
          `draft is at revision ${draft.revision}, not ${command.expectedRevision}`,
        );
      }
      return commit(state, command, now, 'edit', {
        name: command.name ?? state.name,
        description: command.description ?? state.description,
        tags: command.tags ?? state.tags,
        draft: {
          ...specOf({
            content: command.content ?? draft.content,
            schedule: command.schedule ?? draft.schedule,
            audience: command.audience === null ? undefined : (command.audience ?? draft.audience),
            throttle: command.throttle === null ? undefined : (command.throttle ?? draft.throttle),
          }),
          revision: draft.revision + 1,
          basedOn: draft.basedOn,
          updatedAt: now.toISOString(),
          updatedBy: command.actor,
        },
      });
    }
    case 'modify': {
      if (state.draft) throw new LifecycleError('DRAFT_EXISTS', 'campaign already has a draft');
      const live = requireLive(state);
      return commit(state, command, now, 'modify', {
        draft: {
          ...specOf(live),
          revision: 1,
          basedOn: live.number,
          updatedAt: now.toISOString(),
          updatedBy: command.actor,
        },
      });
    }
    case 'rollback': {
      if (state.draft) throw new LifecycleError('DRAFT_EXISTS', 'campaign already has a draft');
      requireLive(state);
      if (!Number.isInteger(command.version) || command.version < 1 || command.version > state.versionCount) {
        throw new LifecycleError('NO_SUCH_VERSION', `campaign has no version ${command.version}`);
      }
      return commit(state, command, now, 'rollback', {
        draft: {
          ...specOf(command.spec),
          revision: 1,
          basedOn: command.version,
          updatedAt: now.toISOString(),
          updatedBy: command.actor,
        },
      });
    }
    case 'activate': {
      const draft = requireDraft(state);
      if (command.expectedRevision !== undefined && command.expectedRevision !== draft.revision) {
        throw new LifecycleError(
          'REVISION_MISMATCH',
          `draft is at revision ${draft.revision}, not ${command.expectedRevision}`,
        );
      }
      const errors = reviewVersion(state.channel, draft, now);
      if (errors.length) throw new LifecycleError('REVIEW_FAILED', 'review failed', errors);
      const version: CampaignVersion = {
        number: state.versionCount + 1,
        ...specOf(draft),
        activatedAt: now.toISOString(),
        activatedBy: command.actor,
        basedOn: draft.basedOn,
      };
      const startAt = draft.schedule.startAt;
      const status: CampaignStatus = startAt && Date.parse(startAt) > now.getTime() ? 'scheduled' : 'live';
      return {
        ...commit(state, command, now, 'activate', {
          status,
          live: version,
          draft: null,
          versionCount: version.number,
        }),
        version,
      };
    }
    case 'discard': {
      requireDraft(state);
      if (state.versionCount === 0) {
        throw new LifecycleError(
          'NEVER_ACTIVATED',
          'a campaign that was never activated has only its draft; delete the campaign instead',
        );
      }
      return commit(state, command, now, 'discard', { draft: null });
    }
    case 'stop': {
      const receipt: StopReceipt = {
        mode: command.mode,
        stoppedAt: now.toISOString(),
        stoppedBy: command.actor,
        liveVersion: state.live?.number ?? null,
        sent: 0,
        cancelled: 0,
      };
      return {
        ...commit(state, command, now, 'stop', { status: 'stopped', draft: null, stop: receipt }),
        receipt,
      };
    }
    case 'duplicate': {
      const spec = state.draft ?? state.live!;
      const duplicate: DuplicateSource = {
        name: `${state.name} (copy)`,
        description: state.description,
        tags: state.tags,
        type: state.type,
        channel: state.channel,
        spec: specOf(spec),
        origin: { campaignId: state.id, version: state.draft ? null : (state.live?.number ?? null) },
      };
      return { ...commit(state, command, now, 'duplicate', {}), duplicate };
    }
    case 'delete': {
      if (state.versionCount > 0) {
        throw new LifecycleError(
          'ALREADY_ACTIVATED',
          'only a campaign that was never activated can be deleted; stop or archive it instead',
        );
      }
      return commit(state, command, now, 'delete', { deleted: true, draft: null });
    }
    case 'archive': {
      if (state.status !== 'completed' && state.status !== 'stopped') {
        throw new LifecycleError(
          'NOT_FINISHED',
          `only a completed or stopped campaign can be archived; this one is ${state.status}`,
        );
      }
      return commit(state, command, now, 'archive', { status: 'archived', finishedAs: state.status });
    }
  }
}

/** Refuses every mutation of a deleted, stopped or otherwise read-only campaign. */
function guardWritable(state: CampaignState, command: Command): void {
  if (state.deleted) throw new LifecycleError('CAMPAIGN_DELETED', 'campaign was deleted');
  const stopped = state.status === 'stopped' || state.finishedAs === 'stopped';
  if (command.type === 'archive' && (state.status === 'stopped' || state.status === 'completed')) return;
  if (stopped) {
    const what =
      command.type === 'duplicate'
        ? 'a stopped campaign cannot be used to create a new campaign'
        : command.type === 'activate'
          ? 'a stopped campaign can never be activated again'
          : 'campaign is stopped and read-only';
    throw new LifecycleError('CAMPAIGN_STOPPED', what);
  }
  if (READ_ONLY.includes(state.status) && command.type !== 'duplicate') {
    throw new LifecycleError('CAMPAIGN_READ_ONLY', `campaign is ${state.status} and read-only`);
  }
}

/** The versioned part of a draft or version, without absent optional fields. */
export function specOf(spec: {
  content: VersionSpec['content'];
  schedule: VersionSpec['schedule'];
  audience?: VersionSpec['audience'];
  throttle?: VersionSpec['throttle'];
}): VersionSpec {
  return {
    content: spec.content,
    schedule: spec.schedule,
    ...(spec.audience ? { audience: spec.audience } : {}),
    ...(spec.throttle ? { throttle: spec.throttle } : {}),
  };
}

function requireDraft(state: CampaignState) {
  if (!state.draft) throw new LifecycleError('NO_DRAFT', 'campaign has no draft');
  return state.draft;
}

function requireLive(state: CampaignState): CampaignVersion {
  if (!state.live || (state.status !== 'live' && state.status !== 'scheduled')) {
    throw new LifecycleError('NO_LIVE_VERSION', `campaign is ${state.status}, not live or scheduled`);
  }
  return state.live;
}

/** The accepted change: new state with bumped revision, remembered request id, history event. */
function commit(
  state: CampaignState,
  command: { requestId: string; actor: string },
  now: Date,
  action: string,
  changes: Partial<CampaignState>,
): Transition {
  const next: CampaignState = {
    ...state,
    ...changes,
    updatedAt: now.toISOString(),
    revision: state.revision + 1,
    recentRequestIds: remember(state.recentRequestIds, command.requestId),
  };
  return {
    state: next,
    event: {
      requestId: command.requestId,
      action,
      actor: command.actor,
      version: next.live?.number ?? null,
      at: now.toISOString(),
    },
  };
}

function remember(ids: string[], id: string): string[] {
  const next = ids.length >= REQUEST_ID_WINDOW ? ids.slice(ids.length - REQUEST_ID_WINDOW + 1) : [...ids];
  next.push(id);
  return next;
}

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
 * Records the end of run `number`. A one-shot campaign is then `completed`. Applies whatever the
 * status (a run may end after a stop); undefined when that run is not the one in flight.
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
