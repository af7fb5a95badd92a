/**
 * Every message the campaign workflow understands. The API (client side) and the workflow both
 * import these definitions, so names and payload types cannot drift apart. Bundle-safe.
 *
 * Each command exists as an update (with a validator: an invalid command is rejected before it
 * reaches history, and the caller learns why at once) and can also be sent through the `command`
 * signal by fire-and-forget senders and operators.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  CampaignVersion,
  CampaignView,
  Command,
  CommandOf,
  CommandPayload,
  CommandResult,
  CommandType,
  Draft,
} from '../domain/types';

/** The task queue workers poll when none is configured. */
export const TASK_QUEUE_DEFAULT = 'campaigns';

/** The workflow id of campaign `campaignId`'s workflow. */
export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

/** The whole lifecycle state, without the request-id window (it stays inside the workflow). */
export const stateQuery = defineQuery<CampaignView>('state');
/** The live version, if any. */
export const liveVersionQuery = defineQuery<CampaignVersion | null>('liveVersion');
/** The draft, if any. */
export const draftQuery = defineQuery<Draft | null>('draft');

/**
 * The update that carries command `T`: named after the command type (its name is `T` at the type
 * level too), with that command's payload.
 */
export type CommandUpdate<T extends CommandType> = UpdateDefinition<
  CommandResult,
  [CommandPayload<CommandOf<T>>],
  T
>;

/** One update per command type. */
export type CommandUpdates = { [T in CommandType]: CommandUpdate<T> };

function defineCommandUpdate<T extends CommandType>(type: T): CommandUpdate<T> {
  return defineUpdate<CommandResult, [CommandPayload<CommandOf<T>>], T>(type);
}

// Updates: one per command (the update's name is the command type). Each returns once the change
// is projected to PostgreSQL.
/** Change the campaign's name, description or tags (campaign-level, not versioned). */
export const describeUpdate = defineCommandUpdate('describe');
/** Edit the draft. */
export const editUpdate = defineCommandUpdate('edit');
/** Start a draft from the live version. */
export const modifyUpdate = defineCommandUpdate('modify');
/** Start a draft from an earlier version. */
export const rollbackUpdate = defineCommandUpdate('rollback');
/** Activate the draft. */
export const activateUpdate = defineCommandUpdate('activate');
/** Discard the draft. */
export const discardUpdate = defineCommandUpdate('discard');
/** Stop the campaign (and its run in flight). */
export const stopUpdate = defineCommandUpdate('stop');
/** Get what a copy of the campaign needs. */
export const duplicateUpdate = defineCommandUpdate('duplicate');
/** Delete a never-activated campaign. */
export const deleteUpdate = defineCommandUpdate('delete');
/** Archive a finished campaign. */
export const archiveUpdate = defineCommandUpdate('archive');

/** Every command update by command type, in the order the workflow registers their handlers. */
export const commandUpdates = {
  describe: describeUpdate,
  edit: editUpdate,
  modify: modifyUpdate,
  rollback: rollbackUpdate,
  activate: activateUpdate,
  discard: discardUpdate,
  stop: stopUpdate,
  duplicate: duplicateUpdate,
  delete: deleteUpdate,
  archive: archiveUpdate,
} as const satisfies CommandUpdates;

/**
 * Returns the state once every accepted change is projected to PostgreSQL: a read-your-writes
 * barrier for callers that only started the workflow or sent a signal.
 */
export const projectedUpdate = defineUpdate<CampaignView>('projected');

/** Any command, fire-and-forget. A refused one is logged by the workflow and changes nothing. */
export const commandSignal = defineSignal<[Command]>('command');

/**
 * Trigger calls were queued in PostgreSQL: run the dispatcher. Sent by the API only when the
 * dispatcher is not already awake, so a stream of calls adds no history.
 */
export const triggersQueuedSignal = defineSignal('triggersQueued');
