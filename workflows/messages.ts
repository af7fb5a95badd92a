/**
 * Every message the campaign workflow understands. The API (client side) and the workflow both
 * import these definitions, so names and payload types cannot drift apart. Bundle-safe.
 *
 * Each command exists as an update (with a validator: an invalid command is rejected before it
 * reaches history, and the caller learns why at once) and can also be sent through the `command`
 * signal by fire-and-forget senders and operators.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  ActivateCampaign,
  ArchiveCampaign,
  CampaignState,
  CampaignVersion,
  Command,
  CommandPayload,
  CommandResult,
  DeleteCampaign,
  DiscardDraft,
  Draft,
  DuplicateCampaign,
  EditDraft,
  ModifyCampaign,
  RollbackCampaign,
  StopCampaign,
} from '../domain/types';

export const TASK_QUEUE_DEFAULT = 'campaigns';

export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

// Queries
export const stateQuery = defineQuery<CampaignState>('state');
export const liveVersionQuery = defineQuery<CampaignVersion | null>('liveVersion');
export const draftQuery = defineQuery<Draft | null>('draft');

// Updates: one per command (the update's name is the command type). Each returns once the change
// is projected to PostgreSQL.
export const editUpdate = defineUpdate<CommandResult, [CommandPayload<EditDraft>]>('edit');
export const modifyUpdate = defineUpdate<CommandResult, [CommandPayload<ModifyCampaign>]>('modify');
export const rollbackUpdate = defineUpdate<CommandResult, [CommandPayload<RollbackCampaign>]>('rollback');
export const activateUpdate = defineUpdate<CommandResult, [CommandPayload<ActivateCampaign>]>('activate');
export const discardUpdate = defineUpdate<CommandResult, [CommandPayload<DiscardDraft>]>('discard');
export const stopUpdate = defineUpdate<CommandResult, [CommandPayload<StopCampaign>]>('stop');
export const duplicateUpdate = defineUpdate<CommandResult, [CommandPayload<DuplicateCampaign>]>('duplicate');
export const deleteUpdate = defineUpdate<CommandResult, [CommandPayload<DeleteCampaign>]>('delete');
export const archiveUpdate = defineUpdate<CommandResult, [CommandPayload<ArchiveCampaign>]>('archive');

export const commandUpdates = {
  edit: editUpdate,
  modify: modifyUpdate,
  rollback: rollbackUpdate,
  activate: activateUpdate,
  discard: discardUpdate,
  stop: stopUpdate,
  duplicate: duplicateUpdate,
  delete: deleteUpdate,
  archive: archiveUpdate,
} as const;

/**
 * Returns the state once every accepted change is projected to PostgreSQL: a read-your-writes
 * barrier for callers that only started the workflow or sent a signal.
 */
export const projectedUpdate = defineUpdate<CampaignState>('projected');

/** Any command, fire-and-forget. A refused one is logged by the workflow and changes nothing. */
export const commandSignal = defineSignal<[Command]>('command');
