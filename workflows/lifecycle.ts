/**
 * The pure campaign state machine: no Temporal imports, no I/O, no clock of its own (callers pass
 * `now`). The workflow applies every command through these functions, so they are unit-tested in
 * microseconds without a server.
 */
import type { ActivateCampaign, CampaignEvent, CampaignState, CampaignStatus, CreateCampaign } from './types';

export type LifecycleErrorCode = 'CAMPAIGN_READ_ONLY' | 'NOT_A_DRAFT' | 'REVIEW_FAILED';

export interface FieldError {
  field: string;
  message: string;
}

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

/** The outcome of an accepted command: the next state and the history entry that records it. */
export interface Transition {
  state: CampaignState;
  event: CampaignEvent;
}

const READ_ONLY: readonly CampaignStatus[] = ['stopped', 'completed', 'archived'];

export function createCampaign(command: CreateCampaign, now: Date): Transition {
  const at = now.toISOString();
  return {
    state: {
      id: command.campaignId,
      name: command.name,
      description: command.description,
      type: command.type,
      channel: command.channel,
      status: 'draft',
      schedule: command.schedule,
      liveVersion: null,
      hasDraft: true,
      createdBy: command.actor,
      createdAt: at,
      revision: 1,
    },
    event: { requestId: command.requestId, action: 'create', actor: command.actor, version: null, at },
  };
}

/** Throws the LifecycleError that refuses `activate`, if any. Changes nothing. */
export function checkActivate(state: CampaignState): void {
  if (READ_ONLY.includes(state.status)) {
    throw new LifecycleError('CAMPAIGN_READ_ONLY', `campaign is ${state.status} and read-only`);
  }
  if (!state.hasDraft) throw new LifecycleError('NOT_A_DRAFT', 'campaign has no draft to activate');
  const { startAt, endAt } = state.schedule;
  if (startAt && endAt && Date.parse(endAt) <= Date.parse(startAt)) {
    throw new LifecycleError('REVIEW_FAILED', 'review failed', [
      { field: 'schedule.endAt', message: 'must be after schedule.startAt' },
    ]);
  }
}

/** Promotes the draft to version n+1; `scheduled` while the start date is ahead, else `live`. */
export function activateCampaign(state: CampaignState, command: ActivateCampaign, now: Date): Transition {
  checkActivate(state);
  const version = (state.liveVersion ?? 0) + 1;
  const startAt = state.schedule.startAt;
  const status: CampaignStatus = startAt && Date.parse(startAt) > now.getTime() ? 'scheduled' : 'live';
  return {
    state: { ...state, status, liveVersion: version, hasDraft: false, revision: state.revision + 1 },
    event: {
      requestId: command.requestId,
      action: 'activate',
      actor: command.actor,
      version,
      at: now.toISOString(),
    },
  };
}

/** The instant of the next automatic transition, if any (`scheduled` → `live`). */
export function nextTransitionAt(state: CampaignState): string | undefined {
  return state.status === 'scheduled' ? state.schedule.startAt : undefined;
}

/** Applies the automatic transition that is due at `now`, if any. */
export function advanceClock(state: CampaignState, now: Date): Transition | undefined {
  const due = nextTransitionAt(state);
  if (!due || Date.parse(due) > now.getTime()) return undefined;
  return {
    state: { ...state, status: 'live', revision: state.revision + 1 },
    event: {
      requestId: `start-${state.liveVersion ?? 0}`,
      action: 'start',
      actor: 'system',
      version: state.liveVersion,
      at: now.toISOString(),
    },
  };
}
