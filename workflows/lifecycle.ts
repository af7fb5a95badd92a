/**
 * The pure campaign state machine: no Temporal imports, no I/O, no clock of its own (callers pass
 * `now`). The workflow applies every command through `apply` and every automatic transition through
 * `tick`, so the whole lifecycle is unit-tested in microseconds without a server.
 */
import { reviewVersion, type FieldError } from './review';
import type {
  CampaignEvent,
  CampaignState,
  CampaignStatus,
  CampaignVersion,
  Command,
  CreateCampaign,
  DuplicateSource,
  StopReceipt,
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
      content: command.content ?? {},
      schedule: command.schedule ?? {},
      revision: 1,
      basedOn: null,
      updatedAt: at,
      updatedBy: command.actor,
    },
    versionCount: 0,
    origin: command.origin ?? null,
    finishedAs: null,
    stop: null,
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
          content: command.content ?? draft.content,
          schedule: command.schedule ?? draft.schedule,
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
          content: live.content,
          schedule: live.schedule,
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
          content: command.spec.content,
          schedule: command.spec.schedule,
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
        content: draft.content,
        schedule: draft.schedule,
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
        spec: { content: spec.content, schedule: spec.schedule },
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

/** The next automatic transition, if any: `scheduled` → `live`, `live` → `completed`. */
export function nextTransition(state: CampaignState): { at: string; to: 'live' | 'completed' } | undefined {
  const schedule = state.live?.schedule;
  if (state.deleted || !schedule) return undefined;
  if (state.status === 'scheduled' && schedule.startAt) return { at: schedule.startAt, to: 'live' };
  if (state.status === 'live' && schedule.endAt) return { at: schedule.endAt, to: 'completed' };
  return undefined;
}

/** Applies the automatic transition due at `now`, if any. */
export function tick(state: CampaignState, now: Date): Transition | undefined {
  const next = nextTransition(state);
  if (!next || Date.parse(next.at) > now.getTime()) return undefined;
  const action = next.to === 'live' ? 'start' : 'complete';
  // A deterministic request id: the same automatic step is recorded once.
  const requestId = `${action}-v${state.live!.number}`;
  const changes: Partial<CampaignState> =
    next.to === 'completed' ? { status: 'completed', draft: null } : { status: 'live' };
  return commit(state, { requestId, actor: 'system' }, now, action, changes);
}
