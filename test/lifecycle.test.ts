import {
  LifecycleError,
  activateCampaign,
  advanceClock,
  checkActivate,
  createCampaign,
  nextTransitionAt,
} from '../workflows/lifecycle';
import type { CreateCampaign } from '../workflows/types';

const now = new Date('2026-01-01T00:00:00.000Z');
const later = (days: number) => new Date(now.getTime() + days * 86_400_000);

function create(overrides: Partial<CreateCampaign> = {}) {
  return createCampaign(
    {
      campaignId: '00000000-0000-4000-8000-000000000001',
      name: 'Spring sale',
      description: '',
      type: 'scheduled',
      channel: 'email',
      schedule: {},
      requestId: 'req-create',
      actor: 'alice',
      ...overrides,
    },
    now,
  );
}

describe('lifecycle state machine', () => {
  it('creates a draft with a working draft and no live version', () => {
    const { state, event } = create();
    expect(state).toMatchObject({ status: 'draft', hasDraft: true, liveVersion: null, revision: 1 });
    expect(event).toEqual({
      requestId: 'req-create',
      action: 'create',
      actor: 'alice',
      version: null,
      at: now.toISOString(),
    });
  });

  it('activates a draft without start date straight to live version 1', () => {
    const { state, event } = activateCampaign(create().state, { requestId: 'r2', actor: 'bob' }, now);
    expect(state).toMatchObject({ status: 'live', liveVersion: 1, hasDraft: false, revision: 2 });
    expect(event).toMatchObject({ action: 'activate', actor: 'bob', version: 1 });
  });

  it('activates a draft with a future start date to scheduled, then live when due', () => {
    const draft = create({ schedule: { startAt: later(10).toISOString() } }).state;
    const scheduled = activateCampaign(draft, { requestId: 'r2', actor: 'bob' }, now).state;
    expect(scheduled.status).toBe('scheduled');
    expect(nextTransitionAt(scheduled)).toBe(later(10).toISOString());
    expect(advanceClock(scheduled, later(9))).toBeUndefined();
    const started = advanceClock(scheduled, later(10));
    expect(started?.state).toMatchObject({ status: 'live', liveVersion: 1, revision: 3 });
    expect(started?.event).toMatchObject({ action: 'start', actor: 'system', version: 1 });
    expect(nextTransitionAt(started!.state)).toBeUndefined();
  });

  it('refuses to activate without a draft, and changes nothing', () => {
    const live = activateCampaign(create().state, { requestId: 'r2', actor: 'bob' }, now).state;
    const before = structuredClone(live);
    expect(() => activateCampaign(live, { requestId: 'r3', actor: 'bob' }, now)).toThrow(
      expect.objectContaining({ code: 'NOT_A_DRAFT' }),
    );
    expect(live).toEqual(before);
  });

  it('refuses to activate a schedule that ends before it starts, naming the field', () => {
    const draft = create({
      schedule: { startAt: later(2).toISOString(), endAt: later(1).toISOString() },
    }).state;
    let error: unknown;
    try {
      checkActivate(draft);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LifecycleError);
    expect(error).toMatchObject({
      code: 'REVIEW_FAILED',
      fieldErrors: [{ field: 'schedule.endAt', message: 'must be after schedule.startAt' }],
    });
  });

  it.each(['stopped', 'completed', 'archived'] as const)('refuses to activate a %s campaign', (status) => {
    const state = { ...create().state, status };
    expect(() => checkActivate(state)).toThrow(expect.objectContaining({ code: 'CAMPAIGN_READ_ONLY' }));
  });
});
