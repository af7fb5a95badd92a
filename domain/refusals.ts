/**
 * Why a command is refused: the error the state machine throws, its stable codes, and the
 * preconditions its rules share. Pure.
 */
import type { FieldError } from './review';
import type { CampaignState, CampaignStatus, CampaignVersion, Command, Draft } from './types';

/** Why a command was refused. */
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
  | 'REVIEW_FAILED'
  /** A command field breaks the input rules (./input): text PostgreSQL cannot store, an integer beyond int4. */
  | 'INVALID_INPUT';

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

const READ_ONLY: readonly CampaignStatus[] = ['completed', 'archived'];

/** Refuses every mutation of a deleted, stopped or otherwise read-only campaign. */
export function guardWritable(state: CampaignState, command: Command): void {
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

/** The draft, at `expectedRevision` when one is given. */
export function requireDraft(state: CampaignState, expectedRevision?: number): Draft {
  const draft = state.draft;
  if (!draft) throw new LifecycleError('NO_DRAFT', 'campaign has no draft');
  if (expectedRevision !== undefined && expectedRevision !== draft.revision) {
    throw new LifecycleError(
      'REVISION_MISMATCH',
      `draft is at revision ${draft.revision}, not ${expectedRevision}`,
    );
  }
  return draft;
}

/** Refuses a command that would create a draft when there is one. */
export function requireNoDraft(state: CampaignState): void {
  if (state.draft) throw new LifecycleError('DRAFT_EXISTS', 'campaign already has a draft');
}

/** The live version of a `live` or `scheduled` campaign. */
export function requireLive(state: CampaignState): CampaignVersion {
  if (!state.live || (state.status !== 'live' && state.status !== 'scheduled')) {
    throw new LifecycleError('NO_LIVE_VERSION', `campaign is ${state.status}, not live or scheduled`);
  }
  return state.live;
}
