/**
 * The pure lifecycle state machine (domain/lifecycle.ts and domain/automatic.ts): each command,
 * allowed and refused, the automatic transitions, then random command sequences checked against
 * the invariants.
 */
import fc from 'fast-check';
import { endRun, missedOccurrences, nextTransition, tick } from '../domain/automatic';
import {
  LifecycleError,
  apply,
  check,
  createCampaign,
  duplicateSourceOf,
  type LifecycleErrorCode,
} from '../domain/lifecycle';
import type { CampaignContent, CampaignState, Command, CreateCampaign } from '../domain/types';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const iso = (days: number) => at(days).toISOString();

const EMAIL: CampaignContent = {
  sender: 'news@shop.example',
  subject: 'Hello {{firstName}}',
  body: 'Dear {{firstName}} {{lastName}}, our spring sale starts now.',
};

/** A command without its request id and actor (the helpers add them). */
type Bare = Command extends unknown ? DistributiveOmit<Command, 'requestId' | 'actor'> : never;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

let seq = 0;
const rid = () => `req-${++seq}`;

function draftCampaign(overrides: Partial<CreateCampaign> = {}): CampaignState {
  return createCampaign(
    {
      campaignId: '00000000-0000-4000-8000-000000000001',
      name: 'Spring sale',
      type: 'scheduled',
      channel: 'email',
      content: EMAIL,
      requestId: rid(),
      actor: 'alice',
      ...overrides,
    },
    T0,
  ).state;
}

/** Applies commands that must all be accepted; returns the final state. */
function run(state: CampaignState, ...commands: Array<Bare>) {
  return commands.reduce(
    (s, c) => apply(s, { requestId: rid(), actor: 'bob', ...c } as Command, T0)!.state,
    state,
  );
}

function refused(state: CampaignState, command: Bare, now = T0) {
  const before = structuredClone(state);
  let error: unknown;
  try {
    apply(state, { requestId: rid(), actor: 'bob', ...command } as Command, now);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(LifecycleError);
  expect(state).toEqual(before); // a refused command changes nothing
  return error as LifecycleError;
}

const expectRefused = (state: CampaignState, command: Bare, code: LifecycleErrorCode) =>
  expect(refused(state, command).code).toBe(code);

const live = () => run(draftCampaign(), { type: 'activate' });
const stopped = () => run(live(), { type: 'stop', mode: 'cancel' });
const completed = () =>
  tick(run(draftCampaign({ schedule: { endAt: iso(5) } }), { type: 'activate' }), at(5))!.state;

describe('create', () => {
  it('makes a draft campaign with a working draft and no live version', () => {
    const { state, event } = createCampaign(
      {
        campaignId: 'c1',
        name: 'N',
        type: 'api_triggered',
        channel: 'sms',
        requestId: 'r-create',
        actor: 'alice',
      },
      T0,
    );
    expect(state).toMatchObject({
      status: 'draft',
      live: null,
      versionCount: 0,
      revision: 1,
      draft: { content: {}, schedule: {}, revision: 1, basedOn: null },
    });
    expect(event).toEqual({
      requestId: 'r-create',
      action: 'create',
      actor: 'alice',
      version: null,
      at: iso(0),
    });
  });
});

describe('edit draft', () => {
  it('replaces draft content and bumps the draft revision', () => {
    const edited = run(draftCampaign(), {
      type: 'edit',
      content: { ...EMAIL, subject: 'New' },
      name: 'Renamed',
    });
    expect(edited.draft).toMatchObject({ revision: 2, content: { subject: 'New' }, updatedBy: 'bob' });
    expect(edited.name).toBe('Renamed');
  });
  it('honours the expected revision (optimistic concurrency)', () => {
    const state = draftCampaign();
    expect(run(state, { type: 'edit', expectedRevision: 1, tags: ['x'] }).tags).toEqual(['x']);
    expectRefused(state, { type: 'edit', expectedRevision: 7 }, 'REVISION_MISMATCH');
  });
  it('is refused without a draft, and on read-only campaigns', () => {
    expectRefused(live(), { type: 'edit' }, 'NO_DRAFT');
    expectRefused(stopped(), { type: 'edit' }, 'CAMPAIGN_STOPPED');
    expectRefused(completed(), { type: 'edit' }, 'CAMPAIGN_READ_ONLY');
  });
});

describe('activate', () => {
  it('promotes the draft to version 1, live, and removes the draft', () => {
    const state = live();
    expect(state).toMatchObject({ status: 'live', versionCount: 1, draft: null });
    expect(state.live).toMatchObject({ number: 1, content: EMAIL, activatedBy: 'bob', basedOn: null });
  });
  it('schedules a draft whose start date is ahead', () => {
    const state = run(draftCampaign({ schedule: { startAt: iso(10) } }), { type: 'activate' });
    expect(state.status).toBe('scheduled');
    expect(nextTransition(state)).toEqual({ at: iso(10), to: 'live' });
  });
  it('refuses a draft that fails review, naming every field', () => {
    const state = draftCampaign({
      content: { sender: 'not-an-address', body: 'Hi {{unknownField}}' },
      schedule: { startAt: iso(3), endAt: iso(2) },
    });
    const error = refused(state, { type: 'activate' });
    expect(error.code).toBe('REVIEW_FAILED');
    expect(error.fieldErrors.map((e) => e.field).sort()).toEqual([
      'content.body',
      'content.sender',
      'content.subject',
      'schedule.endAt',
    ]);
    expect(error.fieldErrors.find((e) => e.field === 'content.body')?.message).toMatch(/unknownField/);
  });
  it('checks what each channel needs', () => {
    const fields = (channel: CreateCampaign['channel'], content: CampaignContent) =>
      refused(draftCampaign({ channel, content }), { type: 'activate' }).fieldErrors.map((e) => e.field);
    expect(fields('sms', {})).toEqual(['content.body']);
    expect(fields('push', { body: 'x' })).toEqual(['content.title']);
    expect(fields('webhook', { url: 'ftp://x' })).toEqual(['content.url']);
    expect(fields('sms', { body: '{{#if}}' })).toEqual(['content.body']);
    expect(
      run(draftCampaign({ channel: 'webhook', content: { url: 'https://hooks.example/x' } }), {
        type: 'activate',
      }).status,
    ).toBe('live');
  });
  it('refuses an end date already past', () => {
    const error = refused(draftCampaign({ schedule: { endAt: iso(-1) } }), { type: 'activate' });
    expect(error.fieldErrors).toEqual([{ field: 'schedule.endAt', message: 'must be in the future' }]);
  });
  it('is refused without a draft, with a stale revision, and for stopped campaigns', () => {
    expectRefused(live(), { type: 'activate' }, 'NO_DRAFT');
    expectRefused(draftCampaign(), { type: 'activate', expectedRevision: 9 }, 'REVISION_MISMATCH');
    const error = refused(stopped(), { type: 'activate' });
    expect(error.code).toBe('CAMPAIGN_STOPPED');
    expect(error.message).toMatch(/never be activated again/);
  });
  it('replaces the live version with exactly the draft, as version n+1', () => {
    const modified = run(live(), { type: 'modify' }, { type: 'edit', content: { ...EMAIL, subject: 'v2' } });
    const state = run(modified, { type: 'activate' });
    expect(state.live).toMatchObject({ number: 2, basedOn: 1, content: { ...EMAIL, subject: 'v2' } });
    expect(state).toMatchObject({ status: 'live', draft: null, versionCount: 2 });
  });
});

describe('modify', () => {
  it('creates a draft copied from the live version while live keeps running', () => {
    const state = run(live(), { type: 'modify' });
    expect(state.status).toBe('live');
    expect(state.draft).toMatchObject({ content: EMAIL, revision: 1, basedOn: 1 });
    const edited = run(state, { type: 'edit', content: { ...EMAIL, body: 'changed' } });
    expect(edited.live).toEqual(state.live); // open live version: unchanged by the draft
  });
  it('works on a scheduled campaign too', () => {
    const scheduled = run(draftCampaign({ schedule: { startAt: iso(10) } }), { type: 'activate' });
    expect(run(scheduled, { type: 'modify' }).draft?.basedOn).toBe(1);
  });
  it('is refused when a draft exists, before activation, and on read-only campaigns', () => {
    expectRefused(run(live(), { type: 'modify' }), { type: 'modify' }, 'DRAFT_EXISTS');
    expectRefused(draftCampaign(), { type: 'modify' }, 'DRAFT_EXISTS');
    expectRefused(stopped(), { type: 'modify' }, 'CAMPAIGN_STOPPED');
    expectRefused(completed(), { type: 'modify' }, 'CAMPAIGN_READ_ONLY');
  });
});

describe('rollback', () => {
  it('creates a draft from an earlier version, based on it', () => {
    const v2 = run(
      live(),
      { type: 'modify' },
      { type: 'edit', content: { ...EMAIL, subject: 'v2' } },
      { type: 'activate' },
    );
    const state = run(v2, { type: 'rollback', version: 1, spec: { content: EMAIL, schedule: {} } });
    expect(state.draft).toMatchObject({ content: EMAIL, basedOn: 1, revision: 1 });
    expect(state.live?.number).toBe(2);
  });
  it('is refused for an unknown version, with a draft, and on stopped campaigns', () => {
    const spec = { content: EMAIL, schedule: {} };
    expectRefused(live(), { type: 'rollback', version: 2, spec }, 'NO_SUCH_VERSION');
    expectRefused(run(live(), { type: 'modify' }), { type: 'rollback', version: 1, spec }, 'DRAFT_EXISTS');
    expectRefused(stopped(), { type: 'rollback', version: 1, spec }, 'CAMPAIGN_STOPPED');
  });
});

describe('discard draft', () => {
  it('removes the draft and leaves live untouched', () => {
    const before = live();
    const state = run(before, { type: 'modify' }, { type: 'discard' });
    expect(state.draft).toBeNull();
    expect(state.live).toEqual(before.live);
    expect(state.status).toBe('live');
  });
  it('is refused without a draft and on a never-activated campaign', () => {
    expectRefused(live(), { type: 'discard' }, 'NO_DRAFT');
    expectRefused(draftCampaign(), { type: 'discard' }, 'NEVER_ACTIVATED');
  });
});

describe('stop', () => {
  it.each([
    ['draft', () => draftCampaign()],
    ['scheduled', () => run(draftCampaign({ schedule: { startAt: iso(3) } }), { type: 'activate' })],
    ['live with a draft', () => run(live(), { type: 'modify' })],
  ])('is allowed from %s: terminal, draft discarded, receipt returned', (_name, make) => {
    const state = make();
    const t = apply(state, { type: 'stop', mode: 'drain', requestId: rid(), actor: 'carol' }, T0)!;
    expect(t.state).toMatchObject({ status: 'stopped', draft: null });
    expect(t.receipt).toEqual({
      mode: 'drain',
      stoppedAt: iso(0),
      stoppedBy: 'carol',
      liveVersion: state.live?.number ?? null,
      sent: 0,
      cancelled: 0,
    });
    expect(nextTransition(t.state)).toBeUndefined();
  });
  it('is refused once stopped or finished', () => {
    expectRefused(stopped(), { type: 'stop', mode: 'cancel' }, 'CAMPAIGN_STOPPED');
    expectRefused(completed(), { type: 'stop', mode: 'cancel' }, 'CAMPAIGN_READ_ONLY');
  });
});

describe('duplicate', () => {
  it('hands over the content and records the origin', () => {
    const t = apply(live(), { type: 'duplicate', requestId: rid(), actor: 'bob' }, T0)!;
    expect(t.duplicate).toMatchObject({
      name: 'Spring sale (copy)',
      channel: 'email',
      spec: { content: EMAIL, schedule: {} },
      origin: { version: 1 },
    });
    expect(t.state.status).toBe('live');
    expect(t.event.action).toBe('duplicate');
  });
  it('is allowed for completed campaigns', () => {
    expect(
      apply(completed(), { type: 'duplicate', requestId: rid(), actor: 'b' }, T0)?.duplicate,
    ).toBeDefined();
  });
  it('is refused for stopped campaigns, archived or not (source rule)', () => {
    expect(refused(stopped(), { type: 'duplicate' }).message).toMatch(
      /cannot be used to create a new campaign/,
    );
    expectRefused(run(stopped(), { type: 'archive' }), { type: 'duplicate' }, 'CAMPAIGN_STOPPED');
  });
  it('has one source, which the workflow also answers a replay with (duplicateSourceOf)', () => {
    const state = live();
    const t = apply(state, { type: 'duplicate', requestId: 'dup-1', actor: 'bob' }, T0)!;
    expect(duplicateSourceOf(t.state)).toEqual(t.duplicate);
    expect(apply(t.state, { type: 'duplicate', requestId: 'dup-1', actor: 'bob' }, T0)).toBeUndefined();
    // A draft-only campaign stopped since has nothing left to copy.
    expect(duplicateSourceOf(run(draftCampaign(), { type: 'stop', mode: 'cancel' }))).toBeUndefined();
  });
});

describe('describe', () => {
  it('changes name, description and tags at campaign level: no draft needed, the draft and live untouched', () => {
    const withDraft = run(live(), { type: 'modify' });
    const t = apply(
      withDraft,
      { type: 'describe', name: ' Summer ', tags: ['s'], requestId: rid(), actor: 'bob' },
      T0,
    )!;
    expect(t.state).toMatchObject({ name: 'Summer', description: '', tags: ['s'], status: 'live' });
    expect(t.state.draft).toEqual(withDraft.draft);
    expect(t.state.live).toEqual(withDraft.live);
    expect(t.event).toMatchObject({ action: 'describe', version: 1 });
    // A discard keeps them: they were never part of the draft.
    expect(run(t.state, { type: 'discard' })).toMatchObject({ name: 'Summer', tags: ['s'] });
    expect(run(live(), { type: 'describe', description: 'd' }).description).toBe('d');
  });
  it('is refused on stopped, completed, archived or deleted campaigns, and without a field', () => {
    expectRefused(stopped(), { type: 'describe', name: 'x' }, 'CAMPAIGN_STOPPED');
    expectRefused(completed(), { type: 'describe', name: 'x' }, 'CAMPAIGN_READ_ONLY');
    expectRefused(
      run(completed(), { type: 'archive' }),
      { type: 'describe', name: 'x' },
      'CAMPAIGN_READ_ONLY',
    );
    expectRefused(
      run(draftCampaign(), { type: 'delete' }),
      { type: 'describe', name: 'x' },
      'CAMPAIGN_DELETED',
    );
    expectRefused(live(), { type: 'describe' }, 'INVALID_INPUT');
    expect(refused(live(), { type: 'describe', name: ' ' }).fieldErrors).toEqual([
      { field: 'name', message: 'must not be blank' },
    ]);
  });
  it('leaves edit applying them too (old clients, signals, running histories)', () => {
    expect(run(draftCampaign(), { type: 'edit', name: 'Old way' }).name).toBe('Old way');
  });
});

describe('input rules (commands that bypass the API)', () => {
  const fields = (state: CampaignState, command: Bare) => {
    const error = refused(state, command);
    expect(error.code).toBe('INVALID_INPUT');
    return error.fieldErrors.map((e) => e.field);
  };
  it('refuses text with a NUL character or an unpaired surrogate, naming the field', () => {
    expect(fields(draftCampaign(), { type: 'edit', name: 'a\u0000b' })).toEqual(['name']);
    expect(fields(draftCampaign(), { type: 'edit', tags: ['ok', 'half \ud83d'] })).toEqual(['tags.1']);
    expect(fields(draftCampaign(), { type: 'edit', content: { ...EMAIL, subject: '\udc00' } })).toEqual([
      'content.subject',
    ]);
    expect(() =>
      check(draftCampaign(), { type: 'activate', requestId: 'r\u0000', actor: 'bob' }, T0),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        fieldErrors: [expect.objectContaining({ field: 'requestId' })],
      }),
    );
    // A surrogate pair is one character: fine.
    expect(run(draftCampaign(), { type: 'edit', name: 'Soldes 🎉' }).name).toBe('Soldes 🎉');
  });
  it('refuses integers beyond PostgreSQL int4 (or not whole), naming the field', () => {
    expect(fields(draftCampaign(), { type: 'edit', throttle: 2 ** 31 })).toEqual(['throttle']);
    expect(fields(draftCampaign(), { type: 'activate', expectedRevision: 1.5 })).toEqual([
      'expectedRevision',
    ]);
    expect(
      fields(live(), { type: 'rollback', version: 2 ** 40, spec: { content: EMAIL, schedule: {} } }),
    ).toEqual(['version']);
    expect(run(draftCampaign(), { type: 'edit', throttle: 2 ** 31 - 1 }).draft!.throttle).toBe(2 ** 31 - 1);
  });
  it('accepts them only when told the rule is not in force (history from before it)', () => {
    const command = { type: 'edit', name: 'a\u0000b', requestId: rid(), actor: 'bob' } as Command;
    expect(apply(draftCampaign(), command, T0, { inputRule: false })!.state.name).toBe('a\u0000b');
  });
});

describe('delete', () => {
  it('removes a never-activated draft', () => {
    expect(run(draftCampaign(), { type: 'delete' }).deleted).toBe(true);
  });
  it('is refused once activated, and everything is refused after deletion', () => {
    expectRefused(live(), { type: 'delete' }, 'ALREADY_ACTIVATED');
    expectRefused(run(draftCampaign(), { type: 'delete' }), { type: 'edit' }, 'CAMPAIGN_DELETED');
  });
});

describe('automatic transitions', () => {
  it('goes scheduled → live at the start date → completed at the end date', () => {
    const scheduled = run(draftCampaign({ schedule: { startAt: iso(10), endAt: iso(90) } }), {
      type: 'activate',
    });
    expect(tick(scheduled, at(9))).toBeUndefined();
    const started = tick(scheduled, at(10))!;
    expect(started.state.status).toBe('live');
    expect(started.event).toMatchObject({
      action: 'start',
      actor: 'system',
      version: 1,
      requestId: 'start-v1',
    });
    expect(nextTransition(started.state)).toEqual({ at: iso(90), to: 'completed' });
    const done = tick(started.state, at(90))!;
    expect(done.state.status).toBe('completed');
    expect(nextTransition(done.state)).toBeUndefined();
  });

  it('starts the one run of a one-shot campaign, and completes it when that run ends', () => {
    const ready = run(draftCampaign({ audience: { audienceId: 'audience-1' } }), { type: 'activate' });
    expect(nextTransition(ready)).toEqual({ at: T0.toISOString(), to: 'run' });
    const started = tick(ready, T0)!;
    expect(started.run).toMatchObject({ number: 1, version: { number: 1 } });
    expect(started.state.runs.active).toMatchObject({ number: 1, version: 1 });
    expect(endRun(started.state, 2, 'completed', at(1))).toBeUndefined(); // not the run in flight
    const ended = endRun(started.state, 1, 'completed', at(1))!;
    expect(ended.state).toMatchObject({ status: 'completed', runs: { count: 1, active: null } });
    expect(ended.event).toMatchObject({ action: 'run-completed', requestId: 'run-1-completed', version: 1 });
  });

  const daily = { kind: 'daily' as const, at: '09:00', timezone: 'UTC' };
  const nineOn = (days: number) => new Date(at(days).getTime() + 9 * 3_600_000);

  it('with coalesce, several overdue occurrences make one run for the latest, the others counted as skipped', () => {
    const ready = run(draftCampaign({ audience: { audienceId: 'a' }, schedule: { recurrence: daily } }), {
      type: 'activate',
    });
    // Down for three days and a bit: the 09:00 of days 0, 1, 2 and 3 are all due.
    const now = new Date(nineOn(3).getTime() + 3_600_000);
    expect(missedOccurrences(ready, now)).toBe(3);
    const old = tick(ready, now)!; // without the rule: the first one due, then the next, …
    expect(old.state.runs).toMatchObject({ lastRunAt: nineOn(0).toISOString(), active: { number: 1 } });
    expect(old.state.runs.skipped).toBeUndefined();
    const started = tick(ready, now, { coalesce: true })!;
    expect(started.state.runs).toMatchObject({
      count: 1,
      lastRunAt: nineOn(3).toISOString(),
      skipped: 3,
      active: { number: 1, skipped: 3 },
    });
    const ended = endRun(started.state, 1, 'completed', now)!.state;
    expect(missedOccurrences(ended, now)).toBe(0);
    expect(nextTransition(ended)).toEqual({ at: nineOn(4).toISOString(), to: 'run' });
    // The next occurrence alone: nothing more skipped.
    const next = tick(ended, nineOn(4), { coalesce: true })!.state.runs;
    expect(next).toMatchObject({ count: 2, skipped: 3, active: { number: 2 } });
    expect(next.active!.skipped).toBeUndefined();
  });

  it('coalesces only occurrences before the end date', () => {
    const ready = run(
      draftCampaign({
        audience: { audienceId: 'a' },
        schedule: { recurrence: daily, endAt: new Date(nineOn(2).getTime() - 1).toISOString() },
      }),
      { type: 'activate' },
    );
    const started = tick(ready, nineOn(5), { coalesce: true })!.state;
    expect(started.runs).toMatchObject({ lastRunAt: nineOn(1).toISOString(), skipped: 1 });
  });

  it('with liveVersionOnly, an older run ending leaves a one-shot live version to run, which then completes', () => {
    const recurring = run(draftCampaign({ audience: { audienceId: 'a' }, schedule: { recurrence: daily } }), {
      type: 'activate',
    });
    const inFlight = tick(recurring, nineOn(0))!.state;
    const replaced = run(
      inFlight,
      { type: 'modify' },
      { type: 'edit', schedule: { recurrence: { kind: 'once' } } },
      { type: 'activate' },
    );
    expect(replaced.runs.active).toMatchObject({ number: 1, version: 1 });
    // Without the rule, v1's run ending completed the campaign: v2 never sent.
    expect(endRun(replaced, 1, 'completed', at(1))!.state.status).toBe('completed');
    const ended = endRun(replaced, 1, 'completed', at(1), { liveVersionOnly: true })!.state;
    expect(ended).toMatchObject({ status: 'live', runs: { active: null, lastVersion: 1 } });
    expect(nextTransition(ended)).toMatchObject({ to: 'run' });
    const own = tick(ended, at(1))!;
    expect(own.run).toMatchObject({ number: 2, version: { number: 2 } });
    const done = endRun(own.state, 2, 'completed', at(1), { liveVersionOnly: true })!.state;
    expect(done).toMatchObject({ status: 'completed', runs: { count: 2, lastVersion: 2 } });
  });

  it('a state without runs.lastVersion (carried over from before it existed) keeps the old one-shot rule', () => {
    const ready = run(draftCampaign({ audience: { audienceId: 'a' } }), { type: 'activate' });
    const ran = endRun(tick(ready, T0)!.state, 1, 'completed', T0)!.state;
    const carried: CampaignState = {
      ...ran,
      status: 'live',
      runs: { count: 1, active: null, lastRunAt: null },
    };
    expect(nextTransition(carried)).toBeUndefined();
  });
});

describe('archive', () => {
  it('hides finished campaigns and keeps them read-only', () => {
    const archived = run(completed(), { type: 'archive' });
    expect(archived).toMatchObject({ status: 'archived', finishedAs: 'completed' });
    expectRefused(archived, { type: 'modify' }, 'CAMPAIGN_READ_ONLY');
    expectRefused(archived, { type: 'archive' }, 'CAMPAIGN_READ_ONLY');
    const archivedStop = run(stopped(), { type: 'archive' });
    expect(archivedStop.finishedAs).toBe('stopped');
    expectRefused(archivedStop, { type: 'activate' }, 'CAMPAIGN_STOPPED');
  });
  it('is refused for campaigns that are not finished', () => {
    expectRefused(live(), { type: 'archive' }, 'NOT_FINISHED');
    expectRefused(draftCampaign(), { type: 'archive' }, 'NOT_FINISHED');
  });
});

describe('idempotency', () => {
  it('applies a request id once; a replay changes nothing and is not refused', () => {
    const state = live();
    const command: Command = { type: 'modify', requestId: 'same', actor: 'bob' };
    const once = apply(state, command, T0)!.state;
    expect(apply(once, command, T0)).toBeUndefined();
    expect(() => check(once, command, T0)).not.toThrow(); // a retried update passes its validator
  });
});

describe('invariants under random command sequences', () => {
  const content = fc.oneof(
    fc.constant(EMAIL),
    fc.constant({ ...EMAIL, subject: 'Other {{city}}' }),
    fc.constant({ sender: 'x' }), // fails review
  );
  const schedule = fc.oneof(
    fc.constant({}),
    fc.integer({ min: 1, max: 20 }).map((d) => ({ startAt: iso(d) })),
    fc.integer({ min: 1, max: 20 }).map((d) => ({ startAt: iso(d), endAt: iso(d + 15) })),
  );
  const requestId = fc.integer({ min: 1, max: 25 }).map((n) => `r${n}`); // small pool: replays happen
  const step = fc.oneof(
    fc.record({ type: fc.constant('edit' as const), content, schedule, requestId }),
    fc.record({ type: fc.constant('describe' as const), name: fc.constantFrom('A', 'B'), requestId }),
    fc.record({ type: fc.constant('modify' as const), requestId }),
    fc.record({ type: fc.constant('activate' as const), requestId }),
    fc.record({ type: fc.constant('discard' as const), requestId }),
    fc.record({
      type: fc.constantFrom('stop' as const),
      mode: fc.constantFrom('cancel' as const, 'drain' as const),
      requestId,
    }),
    fc.record({ type: fc.constant('duplicate' as const), requestId }),
    fc.record({ type: fc.constant('delete' as const), requestId }),
    fc.record({ type: fc.constant('archive' as const), requestId }),
    fc.record({ type: fc.constant('wait' as const), days: fc.integer({ min: 1, max: 40 }) }),
  );

  it('hold for every sequence', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let state = draftCampaign({ requestId: 'r0' });
        let now = T0;
        let wasStopped = false;
        for (const s of steps) {
          const before = structuredClone(state);
          if (s.type === 'wait') {
            now = new Date(now.getTime() + s.days * DAY);
            state = tick(state, now)?.state ?? state;
          } else {
            const command = { ...s, actor: 'prop' } as Command;
            const replay = state.recentRequestIds.includes(command.requestId);
            let result;
            try {
              result = apply(state, command, now);
            } catch (error) {
              if (!(error instanceof LifecycleError)) throw error;
              expect(state).toEqual(before); // refused: nothing changed
              continue;
            }
            if (replay) {
              expect(result).toBeUndefined(); // the same request id has the effect of once
              continue;
            }
            state = result!.state;
            if (command.type === 'activate') {
              expect(state.live!.content).toEqual(before.draft!.content); // activation = exactly the draft
              expect(state.live!.number).toBe(before.versionCount + 1);
              expect(state.draft).toBeNull();
            }
          }
          // The live version only grows.
          expect(state.versionCount).toBeGreaterThanOrEqual(before.versionCount);
          expect(state.live?.number ?? 0).toBe(state.versionCount);
          // A stopped campaign never changes again (archiving only hides it).
          if (wasStopped) {
            expect({
              ...state,
              status: 'stopped',
              finishedAs: null,
              revision: 0,
              recentRequestIds: [],
              updatedAt: '',
            }).toEqual({
              ...before,
              status: 'stopped',
              finishedAs: null,
              revision: 0,
              recentRequestIds: [],
              updatedAt: '',
            });
          }
          wasStopped ||= state.status === 'stopped';
          // Read-only campaigns hold no draft.
          if (['stopped', 'completed', 'archived'].includes(state.status) || state.deleted) {
            expect(state.draft).toBeNull();
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
