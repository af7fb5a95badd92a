/**
 * The campaign workflow: one long-lived execution per campaign (`campaign-<id>`), the single source
 * of truth for its lifecycle. This file is Temporal glue only; every decision is made by the pure
 * state machine in ./lifecycle.
 */
import type { UpdateDefinition } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { CampaignActivities, Projection } from '../activities';
import { endRun, nextTransition, tick } from '../domain/automatic';
import { LifecycleError, apply, check, createCampaign, isReplay, type Transition } from '../domain/lifecycle';
import {
  commandSignal,
  commandUpdates,
  draftQuery,
  liveVersionQuery,
  projectedUpdate,
  stateQuery,
} from './messages';
import { searchAttributes } from './search-attributes';
import { campaignRunWorkflow, runWorkflowId } from './run';
import type {
  CampaignState,
  StopReceipt,
  Command,
  CommandPayload,
  CommandResult,
  CommandType,
  CreateCampaign,
} from '../domain/types';

export interface CampaignWorkflowOptions {
  /** Continue-as-new once history reaches this many events (also when the server suggests it). */
  maxHistoryEvents?: number;
}

/** Either a brand-new campaign, or the state carried over by continue-as-new. */
export type CampaignWorkflowInput = ({ create: CreateCampaign } | { state: CampaignState }) & {
  options?: CampaignWorkflowOptions;
};

export const DEFAULT_MAX_HISTORY_EVENTS = 2000;

/**
 * Workflow time. Inside the workflow sandbox `Date` is Temporal's deterministic replacement (the
 * time of the current workflow task, replayed identically); every clock read goes through here.
 */
const workflowNow = (): Date => new Date();

// A local activity: the projection is a short database write, so it runs in the worker without a
// round trip through the server (retried locally; recorded as a marker in history).
const { projectCampaign } = wf.proxyLocalActivities<CampaignActivities>({
  startToCloseTimeout: '30 seconds',
  summary: 'project change to PostgreSQL',
});

const { cancelRun, runCounts } = wf.proxyLocalActivities<CampaignActivities>({
  startToCloseTimeout: '1 minute',
  summary: 'stop the run in flight',
});

export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<void> {
  const options = input.options ?? {};
  const maxHistoryEvents = options.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const initial = 'create' in input ? createCampaign(input.create, workflowNow()) : undefined;
  let state: CampaignState = 'state' in input ? input.state : initial!.state;
  let projectedRevision = 'state' in input ? input.state.revision : 0;
  // Projections run one after another, in the order changes were accepted.
  let projection: Promise<void> = Promise.resolve();
  const published = new Map<string, unknown>();
  // The run in flight (a child workflow), if any.
  let activeRun: { number: number; scope: wf.CancellationScope } | undefined;

  function accept(transition: Transition): Promise<void> {
    state = transition.state;
    publish(state, published);
    projection = projection
      .then(() => projectCampaign(toProjection(transition)))
      .then(() => {
        projectedRevision = Math.max(projectedRevision, transition.state.revision);
      });
    return projection;
  }

  function launchRun(run: NonNullable<Transition['run']>): void {
    const scope = new wf.CancellationScope();
    activeRun = { number: run.number, scope };
    const child = scope.run(() =>
      wf.executeChild(campaignRunWorkflow, {
        workflowId: runWorkflowId(state.id, run.number),
        args: [{ campaignId: state.id, number: run.number, version: run.version, channel: state.channel }],
        staticSummary: `${state.name}: run ${run.number} (v${run.version.number})`,
      }),
    );
    type Outcome = 'completed' | 'cancelled' | 'failed';
    void child
      .then(
        (result): Outcome => (result.status === 'cancelled' ? 'cancelled' : 'completed'),
        (error): Outcome => (wf.isCancellation(error) ? 'cancelled' : 'failed'),
      )
      .then(async (outcome) => {
        activeRun = undefined;
        const finished = endRun(state, run.number, outcome, workflowNow());
        if (finished) await accept(finished);
      });
  }

  /** For a stop with a run in flight: cancel it (or let it drain) and count what was sent. */
  async function stopRun(command: Command): Promise<Partial<StopReceipt>> {
    if (command.type !== 'stop' || !activeRun || isReplay(state, command.requestId)) return {};
    check(state, command, workflowNow());
    const ref = { campaignId: state.id, number: activeRun.number };
    if (command.mode === 'drain') {
      const c = await runCounts(ref);
      return { sent: c.sent + c.delivered };
    }
    const c = await cancelRun(ref); // once this returns, no further message leaves
    activeRun.scope.cancel();
    return { sent: c.sent + c.delivered, cancelled: c.cancelled };
  }

  async function run(command: Command): Promise<CommandResult> {
    const counted = await stopRun(command);
    const transition = refuseAsFailure(() => apply(state, command, workflowNow()));
    if (transition?.receipt) {
      transition.receipt = { ...transition.receipt, ...counted };
      transition.state = { ...transition.state, stop: transition.receipt };
    }
    if (!transition) {
      // Already applied under this request id: change nothing, answer with the current state.
      await wf.condition(() => projectedRevision >= state.revision);
      return { state, replayed: true };
    }
    await accept(transition);
    return {
      state: transition.state,
      replayed: false,
      ...(transition.receipt ? { receipt: transition.receipt } : {}),
      ...(transition.duplicate ? { duplicate: transition.duplicate } : {}),
    };
  }

  // Handlers are registered before the first await so no early message is lost.
  wf.setHandler(stateQuery, () => state);
  wf.setHandler(liveVersionQuery, () => state.live);
  wf.setHandler(draftQuery, () => state.draft);
  wf.setHandler(projectedUpdate, async () => {
    await wf.condition(() => projectedRevision >= state.revision);
    return state;
  });
  for (const [type, update] of Object.entries(commandUpdates) as Array<
    [CommandType, (typeof commandUpdates)[CommandType]]
  >) {
    // The update's name fixes the command type, whatever the payload says.
    const asCommand = (payload: CommandPayload) => ({ ...payload, type }) as Command;
    wf.setHandler(
      update as UpdateDefinition<CommandResult, [CommandPayload]>,
      (payload: CommandPayload) => run(asCommand(payload)),
      {
        validator: (payload: CommandPayload) =>
          refuseAsFailure(() => check(state, asCommand(payload), workflowNow())),
        description: `${type} the campaign`,
      },
    );
  }
  wf.setHandler(commandSignal, async (command) => {
    try {
      await run(command);
    } catch (error) {
      wf.log.warn('refused a command sent as a signal', {
        command: command.type,
        requestId: command.requestId,
        reason: (error as Error).message,
      });
    }
  });

  const continueAsNewDue = () => {
    const info = wf.workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= maxHistoryEvents;
  };

  if (initial) await accept(initial);
  else publish(state, published);

  while (!state.deleted || activeRun) {
    const next = nextTransition(state);
    const key = next ? `${next.to}@${next.at}` : '';
    // Wake when the next automatic transition changes (not on every edit: no timer churn).
    const wake = () => {
      const now = nextTransition(state);
      return (
        (now ? `${now.to}@${now.at}` : '') !== key || state.deleted || (continueAsNewDue() && !activeRun)
      );
    };
    if (next) {
      const wait = Date.parse(next.at) - workflowNow().getTime();
      // Already due: act now (a short server timer would add about a second).
      const timedOut =
        wait <= 0 ||
        !(await wf.condition(wake, wait, {
          summary: `${next.to === 'live' ? 'go live' : next.to === 'run' ? 'next run' : 'complete'} at ${next.at}`,
        }));
      if (timedOut) {
        const automatic = tick(state, workflowNow());
        if (automatic) {
          if (automatic.run) launchRun(automatic.run);
          await accept(automatic);
        }
      }
    } else {
      await wf.condition(wake);
    }
    // Never with a run in flight: its child workflow belongs to this run.
    if (continueAsNewDue() && !state.deleted && !activeRun) {
      // Never from a handler: wait for in-flight handlers and projections, then carry all state.
      await wf.condition(wf.allHandlersFinished);
      await projection;
      await wf.continueAsNew<typeof campaignWorkflow>({ state, options });
    }
  }
  await wf.condition(wf.allHandlersFinished);
  await projection;
}

/** What the projection needs: the state without the idempotency window, the event, the version. */
function toProjection({ state, event, version }: Transition): Projection {
  const { recentRequestIds: _ids, ...campaign } = state;
  return { campaign, event, ...(version ? { version } : {}) };
}

/**
 * Runs a state-machine call, turning a LifecycleError into a non-retryable ApplicationFailure whose
 * type is the error code and whose details carry the field errors: that is what rejects an update
 * (in a validator, before anything reaches history) and what the API maps to 404/409/412/422.
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

/**
 * Search attributes (upserted only when they change, to keep history small) and the Markdown card
 * that operators see as current details in the Temporal Web UI.
 */
function publish(state: CampaignState, published: Map<string, unknown>): void {
  const next = nextTransition(state);
  const values = [
    { key: searchAttributes.status, value: state.status },
    { key: searchAttributes.hasDraft, value: state.draft !== null },
    { key: searchAttributes.liveVersion, value: state.live?.number ?? null },
    { key: searchAttributes.type, value: state.type },
    { key: searchAttributes.channel, value: state.channel },
    { key: searchAttributes.nextRunAt, value: next ? new Date(next.at) : null },
  ];
  const changed = values.filter(
    ({ key, value }) => String(published.get(key.name)) !== String(value) || !published.has(key.name),
  );
  if (changed.length) {
    wf.upsertSearchAttributes(changed as Parameters<typeof wf.upsertSearchAttributes>[0]);
    for (const { key, value } of changed) published.set(key.name, value);
  }
  const live = state.live;
  wf.setCurrentDetails(
    [
      `### ${state.name}`,
      `- **status:** \`${state.status}\``,
      `- **live version:** ${live ? `v${live.number}, activated ${live.activatedAt} by ${live.activatedBy}` : 'none'}`,
      `- **draft:** ${state.draft ? `revision ${state.draft.revision}${state.draft.basedOn ? `, based on v${state.draft.basedOn}` : ''}` : 'none'}`,
      `- **next transition:** ${next ? `${next.to} at ${next.at}` : 'none'}`,
      `- **runs:** ${state.runs.count}${state.runs.active ? ` (run ${state.runs.active.number} on v${state.runs.active.version} in flight)` : ''}`,
      ...(state.stop
        ? [`- **stopped:** ${state.stop.stoppedAt} by ${state.stop.stoppedBy} (${state.stop.mode})`]
        : []),
    ].join('\n'),
  );
}
