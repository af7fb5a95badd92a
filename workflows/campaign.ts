/**
 * The campaign workflow: one long-lived execution per campaign (`campaign-<id>`), the single source
 * of truth for its lifecycle. This file is Temporal glue only; every decision is made by the pure
 * state machine in ./lifecycle.
 */
import * as wf from '@temporalio/workflow';
import type { CampaignActivities } from '../activities';
import {
  activateCampaign,
  advanceClock,
  checkActivate,
  createCampaign,
  LifecycleError,
  nextTransitionAt,
  type Transition,
} from './lifecycle';
import { activateUpdate, projectedUpdate, stateQuery } from './messages';
import {
  CampaignHasDraft,
  CampaignLiveVersion,
  CampaignNextRunAt,
  CampaignStatus,
} from './search-attributes';
import type { ActivateCampaign, CampaignState, CreateCampaign } from './types';

/** Either a brand-new campaign, or the state carried over by continue-as-new. */
export type CampaignWorkflowInput = { create: CreateCampaign } | { state: CampaignState };

const { projectCampaign } = wf.proxyActivities<CampaignActivities>({
  startToCloseTimeout: '30 seconds',
  summary: 'project to PostgreSQL',
});

export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<void> {
  const initial = 'create' in input ? createCampaign(input.create, new Date()) : undefined;
  let state: CampaignState = 'state' in input ? input.state : initial!.state;
  let projectedRevision = 'state' in input ? input.state.revision : 0;

  async function accept(transition: Transition): Promise<void> {
    state = transition.state;
    publish(state);
    await projectCampaign(transition);
    projectedRevision = Math.max(projectedRevision, transition.state.revision);
  }

  // Handlers are registered before the first await so no early message is lost.
  wf.setHandler(stateQuery, () => state);
  wf.setHandler(projectedUpdate, async () => {
    await wf.condition(() => projectedRevision >= state.revision);
    return state;
  });
  wf.setHandler(
    activateUpdate,
    async (command) => {
      await accept(refuseAsFailure(() => activateCampaign(state, command, new Date())));
      return state;
    },
    { validator: (_command: ActivateCampaign) => refuseAsFailure(() => checkActivate(state)) },
  );

  if (initial) await accept(initial);
  else publish(state);

  for (;;) {
    const revision = state.revision;
    const due = nextTransitionAt(state);
    if (due) {
      const wait = Math.max(Date.parse(due) - Date.now(), 1);
      await wf.condition(() => state.revision !== revision, wait, {
        summary: `start at ${due}`,
      });
    } else {
      await wf.condition(() => state.revision !== revision);
    }
    const automatic = advanceClock(state, new Date());
    if (automatic) await accept(automatic);
  }
}

/**
 * Runs a state-machine call, turning a LifecycleError into a non-retryable ApplicationFailure whose
 * type is the error code and whose details carry the field errors: that is what rejects an update
 * (in a validator, before anything reaches history) and what the API maps to 409/422.
 */
function refuseAsFailure<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof LifecycleError) {
      throw wf.ApplicationFailure.create({
        type: error.code,
        message: error.message,
        details: [error.fieldErrors],
        nonRetryable: true,
      });
    }
    throw error;
  }
}

/** Search attributes and the current-details card that operators see in the Temporal Web UI. */
function publish(state: CampaignState): void {
  const next = nextTransitionAt(state);
  wf.upsertSearchAttributes([
    { key: CampaignStatus, value: state.status },
    { key: CampaignHasDraft, value: state.hasDraft },
    { key: CampaignLiveVersion, value: state.liveVersion },
    { key: CampaignNextRunAt, value: next ? new Date(next) : null },
  ]);
  wf.setCurrentDetails(
    [
      `**${state.name}** — \`${state.status}\``,
      `- live version: ${state.liveVersion ?? 'none'}`,
      `- draft: ${state.hasDraft ? 'yes' : 'no'}`,
      `- next transition: ${next ? `live at ${next}` : 'none'}`,
    ].join('\n'),
  );
}
