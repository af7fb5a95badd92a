/**
 * How an accepted change is recorded, for commands (./lifecycle) and automatic transitions
 * (./automatic) alike: the new state with its revision bumped and its request id remembered, plus
 * the history event. Pure.
 */
import type { CampaignEvent, CampaignState, CampaignVersion, DuplicateSource, StopReceipt } from './types';

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

/** The accepted change: new state with bumped revision, remembered request id, history event. */
export function commit(
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

/** The request-id window with `id` added, the oldest dropped beyond REQUEST_ID_WINDOW. */
function remember(ids: string[], id: string): string[] {
  const next = ids.length >= REQUEST_ID_WINDOW ? ids.slice(ids.length - REQUEST_ID_WINDOW + 1) : [...ids];
  next.push(id);
  return next;
}
