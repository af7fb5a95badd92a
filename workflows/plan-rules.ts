/**
 * The rules by which a campaign workflow plans its automatic transitions (domain/automatic.ts
 * `PlanRules`), each adopted through `patched()`: asked only when the rule changes the plan, so
 * other histories carry no marker, and remembered for the rest of the execution. Bundle-safe.
 */
import * as wf from '@temporalio/workflow';
import { fromActivationMatters, type PlanRules } from '../domain/automatic';
import type { CampaignState } from '../domain/types';
import { PATCHES } from './patches';

export class PlanRuleAnswers {
  /** The answer of `patched(occurrencesFromActivation)`, once asked in this execution. */
  private fromActivation: boolean | undefined;

  /** The rules for `state`, asking `patched()` when a rule first matters. Not from a condition. */
  decide(state: CampaignState): PlanRules {
    if (this.fromActivation === undefined && fromActivationMatters(state)) {
      this.fromActivation = wf.patched(PATCHES.occurrencesFromActivation);
    }
    return this.known();
  }

  /**
   * The rules as decided so far, asking nothing (for `wf.condition` functions). A rule not yet
   * asked has not mattered, so either answer gives the same plan.
   */
  known(): PlanRules {
    return { fromActivation: this.fromActivation ?? false };
  }
}
