/**
 * The workflow's side of API triggers: it runs the dispatcher activity when asked (the
 * `triggersQueued` signal, coalesced by the API) or when a scheduled execution or a callback retry
 * is due, keeps the totals operators see, and closes the queue on a stop. The queue itself lives in
 * PostgreSQL (triggers/store, triggers/activities.ts): a trigger call costs no history.
 */
import * as wf from '@temporalio/workflow';
import { usesContext } from '../domain/context';
import { isReplay } from '../domain/lifecycle';
import type { CampaignState, Command, StopReceipt, TriggerTotals } from '../domain/types';
import { closeTriggers, dispatchTriggers } from '../workflows/campaign-activities';
import { workflowNow } from '../workflows/clock';
import { PATCHES } from '../workflows/patches';

/**
 * The review rule for `command`: whether templates may use the call context. Asked of `patched()`
 * only when an api_triggered draft being activated involves the context, so other histories carry
 * no marker (before triggers, such a draft failed review).
 */
export function callContextRule(state: CampaignState, command: Command): boolean {
  const involved =
    command.type === 'activate' &&
    state.type === 'api_triggered' &&
    !!state.draft &&
    usesContext(state.draft.content);
  return !involved || wf.patched(PATCHES.callContext);
}

/** What the dispatcher needs of its campaign. */
export interface TriggerHost {
  readonly state: CampaignState;
  /** Records new totals in the state (not a lifecycle change: no revision) and shows them. */
  annotate(notes: { triggers: TriggerTotals }): void;
  /** Messages left: the headline figures are worth reading again. */
  noteSent(): void;
  /** Whether history is long enough to continue as new. */
  historyIsLong(): boolean;
}

const NONE: TriggerTotals = { executions: 0, sent: 0, lastExecution: null, wake: false, nextDueAt: null };

export class TriggerDispatcher {
  /** The dispatch loop in flight, if any. */
  private scope: wf.CancellationScope | undefined;
  /** Whether a dispatcher activity is in flight (continue-as-new waits for it). */
  private inActivity = false;
  /** Whether a dispatcher activity has returned in this execution (each run makes progress). */
  private dispatched = false;

  constructor(private readonly campaign: TriggerHost) {}

  /** Whether a dispatcher activity is in flight: it belongs to this execution. */
  get busy(): boolean {
    return this.inActivity;
  }

  private get totals(): TriggerTotals {
    return this.campaign.state.triggers ?? NONE;
  }

  /** Calls were queued: run the dispatcher (once, however many signals arrive meanwhile). */
  wake(): void {
    this.campaign.annotate({ triggers: { ...this.totals, wake: true } });
    this.ensureRunning();
  }

  /** After continue-as-new: pick up a wake-up or a due time carried over. */
  resume(): void {
    if (this.totals.wake || this.totals.nextDueAt) this.ensureRunning();
  }

  /**
   * For a stop of an api_triggered campaign: closes the queue first (once the stop returns no call
   * is accepted and, for `cancel`, no queued message leaves; the dispatcher in flight is ended) and
   * returns what the receipt counts. `refuseEarly` throws when the stop will be refused anyway.
   */
  async stop(command: Command, refuseEarly: () => void): Promise<StopReceipt['triggered']> {
    const state = this.campaign.state;
    if (command.type !== 'stop' || state.type !== 'api_triggered' || isReplay(state, command.requestId)) {
      return undefined;
    }
    refuseEarly();
    if (!wf.patched(PATCHES.triggerQueue)) return undefined;
    const counted = await closeTriggers({ campaignId: state.id, mode: command.mode });
    if (command.mode === 'cancel') this.scope?.cancel();
    return counted;
  }

  private ensureRunning(): void {
    if (this.scope || this.campaign.state.stop?.mode === 'cancel') return;
    const scope = new wf.CancellationScope();
    this.scope = scope;
    scope
      .run(() => this.loop())
      .catch((error: unknown) => {
        if (!wf.isCancellation(error)) wf.log.warn('trigger dispatcher ended', { reason: String(error) });
      })
      .finally(() => {
        this.scope = undefined;
        this.inActivity = false;
      });
  }

  /** Runs the dispatcher while there is work: asked to, more left, or due (a timer until then). */
  private async loop(): Promise<void> {
    for (;;) {
      const { wake, nextDueAt } = this.totals;
      if (!wake) {
        if (!nextDueAt) return;
        const wait = Date.parse(nextDueAt) - workflowNow().getTime();
        // Woken early by a signal, or at the due time.
        if (wait > 0) await wf.condition(() => this.totals.wake, wait);
      }
      // History is long: start no further activity; the workflow continues as new (wake-up and due
      // time carried in the state) and the next run resumes at once. Asked only then, so other
      // histories carry no marker (before: the loop never paused under steady calls, so it never
      // continued as new). Not before one activity has run here: a run too long from its start
      // (a tiny maxHistoryEvents) still sends.
      if (this.dispatched && this.campaign.historyIsLong() && wf.patched(PATCHES.dispatcherYields)) return;
      this.campaign.annotate({ triggers: { ...this.totals, wake: false } });
      this.inActivity = true;
      const report = await dispatchTriggers({
        campaignId: this.campaign.state.id,
        channel: this.campaign.state.channel,
      });
      this.inActivity = false;
      this.dispatched = true;
      const totals = this.totals;
      this.campaign.annotate({
        triggers: {
          executions: totals.executions + report.executions,
          sent: totals.sent + report.sent,
          lastExecution: report.lastExecution ?? totals.lastExecution,
          wake: totals.wake || report.more,
          nextDueAt: report.nextDueAt,
        },
      });
      if (report.sent > 0) this.campaign.noteSent();
    }
  }
}
