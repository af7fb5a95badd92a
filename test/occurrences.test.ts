/**
 * Which occurrence of a recurring campaign runs next (domain/automatic.ts, pure): with the
 * `fromActivation` rule an occurrence before the activation of the version that defines it never
 * fires, while occurrences missed during downtime are still coalesced into one run.
 */
import { endRun, fromActivationMatters, missedOccurrences, nextTransition, tick } from '../domain/automatic';
import { apply, createCampaign } from '../domain/lifecycle';
import type { Recurrence } from '../domain/schedule';
import type { CampaignState, Command } from '../domain/types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2026-01-05 00:00 UTC, and instants counted from it. */
const MONDAY = Date.parse('2026-01-05T00:00:00.000Z');
const on = (days: number, hours = 9) => new Date(MONDAY + days * DAY + hours * HOUR);
const iso = (days: number, hours = 9) => on(days, hours).toISOString();

const weekly: Recurrence = { kind: 'weekly', at: '09:00', timezone: 'UTC', weekdays: ['mon'] };
const daily: Recurrence = { kind: 'daily', at: '09:00', timezone: 'UTC' };
const RULES = { fromActivation: true, coalesce: true };

let seq = 0;
function applied(state: CampaignState, now: Date, ...commands: Array<Record<string, unknown>>) {
  return commands.reduce(
    (s, c) => apply(s, { requestId: `r-${++seq}`, actor: 'bob', ...c } as Command, now)!.state,
    state,
  );
}

/** A campaign live since Sunday noon with `recurrence`, its Monday 09:00 run done. */
function ranOnMonday(recurrence: Recurrence): CampaignState {
  const created = createCampaign(
    {
      campaignId: '00000000-0000-4000-8000-000000000002',
      name: 'Weekly news',
      type: 'scheduled',
      channel: 'email',
      content: { sender: 'news@shop.example', subject: 'Hi', body: 'Hello' },
      audience: { audienceId: 'audience-1' },
      schedule: { recurrence },
      requestId: `r-${++seq}`,
      actor: 'alice',
    },
    on(-1, 12),
  ).state;
  const live = applied(created, on(-1, 12), { type: 'activate' });
  const started = tick(live, on(0), RULES)!.state;
  return endRun(started, 1, 'completed', on(0, 10), { liveVersionOnly: true })!.state;
}

/** `state` with its recurrence changed to `recurrence` by a modify, edit and activate at `now`. */
function changed(state: CampaignState, recurrence: Recurrence, now: Date): CampaignState {
  return applied(
    state,
    now,
    { type: 'modify' },
    { type: 'edit', schedule: { recurrence } },
    { type: 'activate' },
  );
}

describe('occurrences and the activation of their version', () => {
  it('weekly Monday 09:00 changed on Thursday 12:00 to daily 09:00: nothing on Thursday, next run Friday 09:00', () => {
    const thursday = changed(ranOnMonday(weekly), daily, on(3, 12));
    // Without the rule: Tuesday 09:00 was next, so a run for Thursday 09:00 started at once.
    expect(nextTransition(thursday)).toEqual({ at: iso(1), to: 'run' });
    expect(tick(thursday, on(3, 12), { coalesce: true })!.state.runs).toMatchObject({
      lastRunAt: iso(3),
      skipped: 2,
    });
    expect(fromActivationMatters(thursday)).toBe(true);
    expect(nextTransition(thursday, RULES)).toEqual({ at: iso(4), to: 'run' });
    expect(missedOccurrences(thursday, on(3, 12), RULES)).toBe(0);
    expect(tick(thursday, on(3, 12), RULES)).toBeUndefined();
    expect(tick(thursday, on(3, 23), RULES)).toBeUndefined();
    const friday = tick(thursday, on(4), RULES)!;
    expect(friday.run).toMatchObject({ number: 2, version: { number: 2 } });
    expect(friday.state.runs).toMatchObject({ count: 2, lastRunAt: iso(4), active: { number: 2 } });
    expect(friday.state.runs.skipped).toBeUndefined();
  });

  it('still coalesces the occurrences missed during downtime after the activation', () => {
    // Changed on Thursday noon, then down until Saturday 10:00: Friday and Saturday 09:00 are due,
    // one run for Saturday, Friday skipped; Tuesday to Thursday were never occurrences of v2.
    const thursday = changed(ranOnMonday(weekly), daily, on(3, 12));
    expect(missedOccurrences(thursday, on(5, 10), RULES)).toBe(1);
    const saturday = tick(thursday, on(5, 10), RULES)!.state.runs;
    expect(saturday).toMatchObject({ lastRunAt: iso(5), skipped: 1, active: { number: 2, skipped: 1 } });
  });

  it('leaves a version activated before the missed occurrences as it was: downtime coalesced, no difference', () => {
    // Daily since Sunday, its Monday run done, then down until Thursday 10:00.
    const state = ranOnMonday(daily);
    expect(fromActivationMatters(state)).toBe(false);
    expect(nextTransition(state, RULES)).toEqual(nextTransition(state));
    const thursday = tick(state, on(3, 10), RULES)!.state.runs;
    expect(thursday).toMatchObject({ lastRunAt: iso(3), skipped: 2 });
  });

  it('changes nothing for a one-shot version activated after a run: it runs at once', () => {
    const once = changed(ranOnMonday(weekly), { kind: 'once' }, on(3, 12));
    expect(fromActivationMatters(once)).toBe(false);
    const started = tick(once, on(3, 12), RULES)!;
    expect(started.run).toMatchObject({ number: 2, version: { number: 2 } });
  });

  it('a version activated before its first occurrence of the day runs at it that day', () => {
    // Changed on Thursday 08:00: Thursday 09:00 follows the activation, so it runs.
    const early = changed(ranOnMonday(weekly), daily, on(3, 8));
    expect(nextTransition(early, RULES)).toEqual({ at: iso(3), to: 'run' });
  });
});
