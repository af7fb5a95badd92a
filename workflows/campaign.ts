/**
 * The campaign workflow: one long-lived execution per campaign (`campaign-<id>`), the single source
 * of truth for its lifecycle. It wires Temporal to a CampaignManager (./campaign-manager), which
 * holds the state; every decision is made by the pure state machine in ../domain.
 */
import type { UpdateDefinition } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { NextTransition } from '../domain/automatic';
import type {
  CampaignState,
  Command,
  CommandOf,
  CommandPayload,
  CommandResult,
  CommandType,
  CreateCampaign,
} from '../domain/types';
import { CampaignManager } from './campaign-manager';
import { workflowNow } from './clock';
import {
  commandSignal,
  commandUpdates,
  draftQuery,
  liveVersionQuery,
  projectedUpdate,
  stateQuery,
  triggersQueuedSignal,
  type CommandUpdate,
} from './messages';

/** How a campaign workflow behaves, beyond its state. */
export interface CampaignWorkflowOptions {
  /** Continue-as-new once history reaches this many events (also when the server suggests it). */
  maxHistoryEvents?: number;
}

/** Either a brand-new campaign, or the state carried over by continue-as-new. */
export type CampaignWorkflowInput = ({ create: CreateCampaign } | { state: CampaignState }) & {
  options?: CampaignWorkflowOptions;
};

/** History length at which a campaign continues as new, unless its options say otherwise. */
export const DEFAULT_MAX_HISTORY_EVENTS = 2000;

/** One campaign's whole life: create, answer messages, take automatic transitions, continue as new. */
export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<void> {
  // ── Create: a new campaign, or the one carried over by continue-as-new.
  const options = input.options ?? {};
  const campaign = new CampaignManager(input, options.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS);

  // ── Handlers: registered before the first await, so no early message is lost.
  // The state itself, readable before the projection catches up (tests, `temporal workflow query`).
  wf.setHandler(stateQuery, () => campaign.view);
  // The live version alone, for operators who only ask what is being sent.
  wf.setHandler(liveVersionQuery, () => campaign.state.live);
  // The draft alone, for operators who only ask what would be activated.
  wf.setHandler(draftQuery, () => campaign.state.draft);
  // An update, not a query, so the caller can wait: read-your-writes after a start or a signal.
  wf.setHandler(projectedUpdate, () => campaign.projected());
  // Commands are updates so a refused one never reaches history and its caller learns why at once.
  // (`describe` among them: name, description and tags are campaign-level, so they get a command of
  // their own rather than riding on draft edits that a discard would seem to undo.)
  for (const update of Object.values(commandUpdates)) onCommand(campaign, update);
  // The same commands as a signal, for fire-and-forget senders and operators (refusals are logged).
  wf.setHandler(commandSignal, (command) => campaign.executeSignalled(command));
  // Trigger calls were queued in PostgreSQL (api_triggered): a signal, so a call costs no update.
  wf.setHandler(triggersQueuedSignal, () => campaign.triggers.wake());

  // ── Timer loop: sleep until the next automatic transition is due, take it, repeat.
  // A new campaign records its creation first; one carried over by continue-as-new shows itself.
  if (campaign.creation) await campaign.accept(campaign.creation);
  else campaign.updateOperatorView();
  campaign.triggers.resume();
  let continuing = false;
  // Until the campaign is deleted and its last run has ended, or it is time to continue as new.
  while (campaign.active && !continuing) {
    const next = campaign.nextTransition();
    // Wakes early when the plan changes (not on every edit: no timer churn).
    const replanned = campaign.replanned(next);
    if (next) {
      const wait = Date.parse(next.at) - workflowNow().getTime();
      // Already due: act now (a short server timer would add about a second).
      const due = wait <= 0 || !(await wf.condition(replanned, wait, { summary: timerSummary(next) }));
      if (due && campaign.holdsRun(next)) {
        // A drain stop is being decided: it comes first (then nothing is due, unless it was refused).
        await campaign.stopDecided();
      } else {
        const automatic = due ? campaign.dueTransition() : undefined;
        if (automatic?.run) campaign.startRun(automatic.run);
        if (automatic) await campaign.accept(automatic);
      }
    } else {
      await wf.condition(replanned);
    }
    continuing = campaign.shouldContinueAsNew();
  }

  // ── Continue-as-new (or finish): never from a handler; after in-flight handlers and projections.
  await wf.condition(wf.allHandlersFinished);
  await campaign.projectionsSettled();
  if (continuing) await wf.continueAsNew<typeof campaignWorkflow>({ state: campaign.state, options });
}

/**
 * Registers the handler of one command update: its validator refuses an invalid command before it
 * reaches history, its handler executes the command. The update's name is the command type,
 * whatever the payload says.
 */
function onCommand<T extends CommandType>(campaign: CampaignManager, update: CommandUpdate<T>): void {
  // The same definition with its name typed as any string: setHandler's types cannot resolve a
  // generic name.
  const definition: UpdateDefinition<CommandResult, [CommandPayload<CommandOf<T>>]> = update;
  // The payload is exactly command T without its type; TypeScript cannot follow the spread.
  const asCommand = (payload: CommandPayload<CommandOf<T>>) => ({ ...payload, type: update.name }) as Command;
  wf.setHandler(definition, (payload) => campaign.execute(asCommand(payload)), {
    validator: (payload) => campaign.validate(asCommand(payload)),
    description: `${update.name} the campaign`,
  });
}

/** The timer's summary in the Temporal Web UI. */
function timerSummary(next: NextTransition): string {
  return `${next.to === 'live' ? 'go live' : next.to === 'run' ? 'next run' : 'complete'} at ${next.at}`;
}
