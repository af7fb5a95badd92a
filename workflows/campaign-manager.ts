/**
 * What one campaign workflow holds, and everything it does with it: the lifecycle state, the chain
 * of projections to PostgreSQL, what operators see (./operator-view), and the delivery
 * run in flight. Temporal glue only: every decision is made by the pure state machine in
 * ../domain (commands in lifecycle.ts, automatic transitions in automatic.ts).
 */
import * as wf from '@temporalio/workflow';
import { endRun, missedOccurrences, nextTransition, tick, type NextTransition } from '../domain/automatic';
import {
  apply,
  check,
  createCampaign,
  duplicateSourceOf,
  isReplay,
  viewOf,
  type CommandRules,
  type Transition,
} from '../domain/lifecycle';
import { inputErrors } from '../domain/input';
import type {
  CampaignState,
  CampaignView,
  Command,
  CommandResult,
  CreateCampaign,
  ProjectionFailure,
  StopReceipt,
} from '../domain/types';
import {
  cancelRun,
  failureReason,
  projectCampaign,
  recordProjectionFailure,
  runCounts,
  toProjection,
} from './campaign-activities';
import { OperatorView } from './operator-view';
import { PATCHES } from './patches';
import { refuseAsFailure } from './refusals';
import { campaignRunWorkflow, runWorkflowId } from '../delivery/run';
import { HeadlineRefresher } from './headline';
import { workflowNow } from './clock';
import { PlanRuleAnswers } from './plan-rules';
import { callContextRule, TriggerDispatcher } from '../triggers/dispatcher';

/** How a delivery run's child workflow ended. */
type RunOutcome = 'completed' | 'cancelled' | 'failed';

/**
 * One campaign, inside its workflow.
 *
 * Concurrency rule: handlers run concurrently with each other and with the timer loop, and any
 * await lets another one change the state. So a decision is made from the state as it is after the
 * last await: a method that awaits re-reads `state` and calls the state machine only after its
 * last await, then accepts the transition (which sets the state) before awaiting again. Nothing
 * reads the state, awaits, and writes back what it read.
 */
export class CampaignManager {
  private current: CampaignState;
  /** The creation to accept first, for a new campaign (not one carried over by continue-as-new). */
  readonly creation: Transition | undefined;
  /** The highest revision whose projection has finished: done, or given up on (projectionFailure). */
  private projectedRevision: number;
  /** Projections run one after another, in the order changes were accepted. */
  private projection: Promise<void> = Promise.resolve();
  /** What operators see in the Temporal Web UI. */
  private readonly operatorView = new OperatorView();
  /** The delivery run in flight (a child workflow), if any. */
  private activeRun: { number: number; scope: wf.CancellationScope } | undefined;
  /** api_triggered: the trigger dispatcher (triggers/dispatcher.ts). */
  readonly triggers = new TriggerDispatcher(this);
  /** The live version's figures on the operator card, after each send (./headline). */
  private readonly figures = new HeadlineRefresher(this);
  /** Drain stops between their first await and their decision (they hold runs that come due). */
  private drainsDeciding = 0;
  /** The rules the plan of automatic transitions follows (./plan-rules). */
  private readonly planRules = new PlanRuleAnswers();

  constructor(
    start: { create: CreateCampaign } | { state: CampaignState },
    private readonly maxHistoryEvents: number,
  ) {
    this.creation = 'create' in start ? createCampaign(start.create, workflowNow()) : undefined;
    this.current = 'state' in start ? start.state : this.creation!.state;
    this.projectedRevision = 'state' in start ? start.state.revision : 0;
  }

  /** The lifecycle state as of the last accepted change. */
  get state(): CampaignState {
    return this.current;
  }

  /** The state as answers show it: without the request-id window. */
  get view(): CampaignView {
    return viewOf(this.current);
  }

  /** Whether the workflow still has work: the campaign is not deleted, or a run is in flight. */
  get active(): boolean {
    return !this.current.deleted || this.activeRun !== undefined;
  }

  /**
   * Makes `transition` the current state, shows it, and queues its projection (resolves once done,
   * or given up on after bounded retries: then recorded as the campaign's projectionFailure, and
   * cleared by the next projection that succeeds).
   */
  accept(transition: Transition): Promise<void> {
    this.current = transition.state;
    this.updateOperatorView();
    const revision = transition.state.revision;
    this.projection = this.projection.then(async () => {
      try {
        await projectCampaign(toProjection(transition));
        // After the await: the row is at this revision now, its projection_error cleared.
        const failure = this.current.projectionFailure;
        if (failure && failure.revision < revision) this.annotate({ projectionFailure: null });
      } catch (error) {
        if (!wf.patched(PATCHES.boundedProjection)) throw error;
        await this.projectionGivenUp(revision, error);
      }
      this.projectedRevision = Math.max(this.projectedRevision, revision);
    });
    return this.projection;
  }

  /** Records a projection given up on: state, operator view, log, and the row's projection_error. */
  private async projectionGivenUp(revision: number, error: unknown): Promise<void> {
    const reason = failureReason(error);
    const failure: ProjectionFailure = { revision, at: workflowNow().toISOString(), reason };
    this.annotate({ projectionFailure: failure });
    // Warn, not error: it is shown where operators look (search attribute, card, API).
    wf.log.warn('gave up projecting a change to PostgreSQL', { revision, reason });
    try {
      await recordProjectionFailure({ campaignId: this.current.id, failure });
    } catch (recordError) {
      wf.log.warn('could not record the projection failure either', {
        reason: (recordError as Error).message,
      });
    }
  }

  /**
   * Records what operators see beside the lifecycle (a projection failure, trigger totals, headline
   * figures): not a lifecycle change, so no revision and no projection; shown at once.
   */
  annotate(notes: Partial<Pick<CampaignState, 'projectionFailure' | 'triggers' | 'figures'>>): void {
    this.current = { ...this.current, ...notes };
    this.updateOperatorView();
  }

  /** Messages left (a run ended, or the trigger dispatcher sent some): refresh the headline figures. */
  noteSent(): void {
    this.figures.sent();
  }

  /** Resolves once every accepted change is projected to PostgreSQL. */
  projectionsSettled(): Promise<void> {
    return this.projection;
  }

  /** The state, once every change accepted so far is projected (read-your-writes). */
  async projected(): Promise<CampaignView> {
    await this.caughtUp();
    return this.view;
  }

  /** Throws the failure that refuses `command` (an update validator), if any. Changes nothing. */
  validate(command: Command): void {
    refuseAsFailure(() => check(this.current, command, workflowNow()));
  }

  /** Executes a command: accepted, projected, answered; or refused with an ApplicationFailure. */
  async execute(command: Command): Promise<CommandResult> {
    // An update's validator has refused bad input already; a signal's is refused here (asked only
    // for such a command, which histories from before the rule accepted).
    const strictOk = inputErrors(command, { schemaNumbers: false }).length === 0;
    const rules = {
      inputRule: strictOk || wf.patched(PATCHES.inputRule),
      // Asked only for a command the int4 rule refuses in its contextSchema alone.
      schemaNumbers: strictOk || inputErrors(command).length > 0 || wf.patched(PATCHES.schemaNumbers),
      // Asked only when an api_triggered draft involves the call context, so other histories carry no marker.
      callContext: callContextRule(this.current, command),
    };
    // A drain stop holds the runs that come due from its first await until it is accepted or refused.
    const draining = command.type === 'stop' && command.mode === 'drain';
    if (draining) this.drainsDeciding++;
    let transition: Transition | undefined;
    let accepted: Promise<void> | undefined;
    try {
      const counted = await this.stopRun(command, rules);
      // Refused early, before touching the trigger queue; decided again below, after the awaits.
      const triggered = await this.triggers.stop(command, () =>
        refuseAsFailure(() => check(this.current, command, workflowNow(), rules)),
      );
      // After the last await: decide from the state as it is now.
      transition = refuseAsFailure(() => apply(this.current, command, workflowNow(), rules));
      if (transition?.receipt) {
        transition.receipt = { ...transition.receipt, ...counted, ...(triggered ? { triggered } : {}) };
        transition.state = { ...transition.state, stop: transition.receipt };
      }
      if (transition) accepted = this.accept(transition);
    } finally {
      if (draining) this.drainsDeciding--;
    }
    if (!transition) {
      // Already applied under this request id: change nothing, answer with the current state.
      await this.caughtUp();
      // A replayed duplicate answers its source too: its caller creates the copy from it.
      const duplicate = command.type === 'duplicate' ? duplicateSourceOf(this.current) : undefined;
      return { state: this.view, replayed: true, ...(duplicate ? { duplicate } : {}) };
    }
    await accepted;
    return {
      state: viewOf(transition.state),
      replayed: false,
      ...(transition.receipt ? { receipt: transition.receipt } : {}),
      ...(transition.duplicate ? { duplicate: transition.duplicate } : {}),
    };
  }

  /** Executes a command sent as a signal: nobody awaits the answer, so a refusal is logged. */
  async executeSignalled(command: Command): Promise<void> {
    try {
      await this.execute(command);
    } catch (error) {
      wf.log.warn('refused a command sent as a signal', {
        command: command.type,
        requestId: command.requestId,
        reason: (error as Error).message,
      });
    }
  }

  /** The next automatic transition, if any. */
  nextTransition(): NextTransition | undefined {
    return nextTransition(this.current, this.planRules.decide(this.current));
  }

  /**
   * A condition for the timer loop: true once the next automatic transition is no longer `next`,
   * the campaign is deleted, or it is time to continue as new.
   */
  replanned(next: NextTransition | undefined): () => boolean {
    const key = planKey(next);
    return () =>
      planKey(nextTransition(this.current, this.planRules.known())) !== key ||
      this.current.deleted ||
      (this.historyIsLong() && !this.activeRun && !this.triggers.busy);
  }

  /**
   * Whether a drain stop being decided holds `next`, a run due now: the timer loop then awaits
   * `stopDecided` instead of starting it (before the `drain-holds-runs` patch, a run that came due
   * while the stop awaited its counts started, and the drain let it send). Asked only then.
   */
  holdsRun(next: NextTransition): boolean {
    return this.drainsDeciding > 0 && next.to === 'run' && wf.patched(PATCHES.drainHoldsRuns);
  }

  /** Resolves once no drain stop is being decided (it was accepted or refused). */
  stopDecided(): Promise<void> {
    return wf.condition(() => this.drainsDeciding === 0);
  }

  /** The automatic transition due now, if any; not yet accepted, its run (if any) not started. */
  dueTransition(): Transition | undefined {
    const now = workflowNow();
    const rules = this.planRules.decide(this.current);
    // Asked only when occurrences were missed, so other histories carry no marker.
    const coalesce = missedOccurrences(this.current, now, rules) > 0 && wf.patched(PATCHES.coalesceRuns);
    return tick(this.current, now, { ...rules, coalesce });
  }

  /** Whether to continue as new now: history is long, and nothing belongs to this execution. */
  shouldContinueAsNew(): boolean {
    // Never with a run in flight: its child workflow belongs to this execution.
    return this.historyIsLong() && !this.current.deleted && !this.activeRun && !this.triggers.busy;
  }

  /** Starts delivery run `run` as a child workflow; its end is recorded when it completes. */
  startRun(run: NonNullable<Transition['run']>): void {
    const state = this.current;
    const scope = new wf.CancellationScope();
    this.activeRun = { number: run.number, scope };
    const child = scope.run(() =>
      wf.executeChild(campaignRunWorkflow, {
        workflowId: runWorkflowId(state.id, run.number),
        args: [{ campaignId: state.id, number: run.number, version: run.version, channel: state.channel }],
        staticSummary: `${state.name}: run ${run.number} (v${run.version.number})`,
      }),
    );
    void child
      .then(
        (result): RunOutcome => (result.status === 'cancelled' ? 'cancelled' : 'completed'),
        (error): RunOutcome => (wf.isCancellation(error) ? 'cancelled' : 'failed'),
      )
      .then(async (outcome) => {
        this.activeRun = undefined;
        const liveVersionOnly = wf.patched(PATCHES.runEndLiveVersion);
        const ended = endRun(this.current, run.number, outcome, workflowNow(), { liveVersionOnly });
        if (ended) await this.accept(ended);
        this.noteSent();
      });
  }

  /**
   * For a stop with a run in flight: cancel it (or let it drain) and count what was sent. A
   * `cancel` stop cancels the run whose row `cancelRun` marked, never another one: after each
   * await it looks again (the concurrency rule), and a run started meanwhile (its occurrence was
   * due when the one being cancelled ended) is cancelled the same way, row first, so no message
   * leaves once the stop returns and the receipt counts it. Never throws but a refusal.
   */
  private async stopRun(command: Command, rules: CommandRules): Promise<Partial<StopReceipt>> {
    if (command.type !== 'stop' || !this.activeRun || isReplay(this.current, command.requestId)) return {};
    // Refuse early, before touching the run; `execute` decides again after this method's awaits.
    refuseAsFailure(() => check(this.current, command, workflowNow(), rules));
    const campaignId = this.current.id;
    if (command.mode === 'drain') {
      const c = await runCounts({ campaignId, number: this.activeRun.number });
      return { sent: c.sent + c.delivered };
    }
    const counted = { sent: 0, cancelled: 0 };
    for (let run = this.activeRun; run;) {
      const c = await cancelRun({ campaignId, number: run.number }); // then no message of it leaves
      counted.sent += c.sent + c.delivered;
      counted.cancelled += c.cancelled;
      // After the await, from the state as it is now: the run may have ended meanwhile (nothing
      // to cancel), and a newer one may have started.
      const now = this.activeRun;
      if (now === run) {
        run.scope.cancel();
        break;
      }
      if (!now || !wf.patched(PATCHES.stopCancelsItsRun)) {
        // Before the patch: the run in flight now was cancelled, whichever it was.
        now?.scope.cancel();
        break;
      }
      run = now;
    }
    return counted;
  }

  /** Resolves once the projection has caught up with the current state. */
  private caughtUp(): Promise<void> {
    return wf.condition(() => this.projectedRevision >= this.current.revision);
  }

  /** Whether history is long enough to continue as new (also when the server suggests it). */
  historyIsLong(): boolean {
    const info = wf.workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= this.maxHistoryEvents;
  }

  /** Shows the state to operators: search attributes and the Markdown card (./operator-view). */
  updateOperatorView(): void {
    this.operatorView.show(this.current, this.nextTransition());
  }
}

/** Identifies a planned automatic transition, to notice when the plan changes. */
function planKey(next: NextTransition | undefined): string {
  return next ? `${next.to}@${next.at}` : '';
}
