/**
 * Campaign run times: recurrences as wall-clock times in their zone (across daylight-saving
 * changes), the [startAt, endAt) window, `once`, and the review of a recurrence's fields.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { WEEKDAYS, nextRunAt, reviewRecurrence, type Recurrence, type Weekday } from '../domain/schedule';

type Window = { startAt?: string; endAt?: string };

/** Every run in the window, by calling nextRunAt with the previous run (or `from`). */
function allRuns(r: Recurrence, window: Window, from = new Date(Date.parse(window.startAt!) - 1)): string[] {
  const runs: string[] = [];
  for (let next = nextRunAt(r, from, window); next; next = nextRunAt(r, next, window)) {
    runs.push(next.toISOString());
    if (runs.length > 1000) throw new Error('runaway schedule');
  }
  return runs;
}

/** The local wall-clock date and time of an instant in `zone`. */
const local = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toFormat('yyyy-MM-dd HH:mm');

describe('weekly', () => {
  const mondays: Recurrence = { kind: 'weekly', at: '09:00', timezone: 'Europe/Paris', weekdays: ['mon'] };
  const window = { startAt: '2027-01-01T00:00:00.000Z', endAt: '2027-04-30T00:00:00.000Z' };

  it('runs Mondays 09:00 Paris time, 08:00Z in winter and 07:00Z after the 2027-03-28 change', () => {
    const runs = allRuns(mondays, window);
    expect(runs).toEqual([
      '2027-01-04T08:00:00.000Z',
      '2027-01-11T08:00:00.000Z',
      '2027-01-18T08:00:00.000Z',
      '2027-01-25T08:00:00.000Z',
      '2027-02-01T08:00:00.000Z',
      '2027-02-08T08:00:00.000Z',
      '2027-02-15T08:00:00.000Z',
      '2027-02-22T08:00:00.000Z',
      '2027-03-01T08:00:00.000Z',
      '2027-03-08T08:00:00.000Z',
      '2027-03-15T08:00:00.000Z',
      '2027-03-22T08:00:00.000Z',
      '2027-03-29T07:00:00.000Z',
      '2027-04-05T07:00:00.000Z',
      '2027-04-12T07:00:00.000Z',
      '2027-04-19T07:00:00.000Z',
      '2027-04-26T07:00:00.000Z',
    ]);
    const change = Date.parse('2027-03-28T00:00:00.000Z');
    for (const run of runs) {
      expect(run.slice(11)).toBe(Date.parse(run) < change ? '08:00:00.000Z' : '07:00:00.000Z');
      expect(local(run, 'Europe/Paris')).toMatch(/ 09:00$/);
    }
    let mondaysInWindow = 0;
    for (let t = Date.parse(window.startAt); t < Date.parse(window.endAt); t += 86_400_000) {
      if (new Date(t).getUTCDay() === 1) mondaysInWindow++;
    }
    expect(runs).toHaveLength(mondaysInWindow);
  });

  it('returns the next run from any instant, and none at or past endAt', () => {
    const next = (after: string) => nextRunAt(mondays, new Date(after), window)?.toISOString();
    expect(next('2026-06-01T00:00:00.000Z')).toBe('2027-01-04T08:00:00.000Z'); // before startAt
    expect(next('2027-01-04T07:59:59.999Z')).toBe('2027-01-04T08:00:00.000Z');
    expect(next('2027-01-04T08:00:00.000Z')).toBe('2027-01-11T08:00:00.000Z'); // strictly after
    expect(next('2027-04-26T07:00:00.000Z')).toBeUndefined();
    expect(next('2027-06-01T00:00:00.000Z')).toBeUndefined();
    expect(nextRunAt(mondays, new Date('2027-01-01T00:00:00.000Z'), {})?.toISOString()).toBe(
      '2027-01-04T08:00:00.000Z',
    );
  });

  it('runs on several weekdays in order, each once', () => {
    const r: Recurrence = {
      kind: 'weekly',
      at: '18:45',
      timezone: 'Asia/Tokyo',
      weekdays: ['fri', 'mon', 'wed'],
    };
    const runs = allRuns(r, { startAt: '2027-03-01T00:00:00.000Z', endAt: '2027-03-15T00:00:00.000Z' });
    expect(runs).toEqual([
      '2027-03-01T09:45:00.000Z', // Mon 18:45 JST (UTC+9)
      '2027-03-03T09:45:00.000Z', // Wed
      '2027-03-05T09:45:00.000Z', // Fri
      '2027-03-08T09:45:00.000Z',
      '2027-03-10T09:45:00.000Z',
      '2027-03-12T09:45:00.000Z',
    ]);
    expect(new Set(runs).size).toBe(runs.length);
    expect([...runs].sort()).toEqual(runs);
    expect(runs.map((run) => DateTime.fromISO(run, { zone: 'Asia/Tokyo' }).toFormat('ccc'))).toEqual([
      'Mon',
      'Wed',
      'Fri',
      'Mon',
      'Wed',
      'Fri',
    ]);
  });

  it('uses the local weekday, not the UTC one', () => {
    // Monday 07:00 in Auckland (UTC+13 in January) is Sunday 18:00Z.
    const r: Recurrence = { kind: 'weekly', at: '07:00', timezone: 'Pacific/Auckland', weekdays: ['mon'] };
    expect(nextRunAt(r, new Date('2027-01-01T00:00:00.000Z'), {})?.toISOString()).toBe(
      '2027-01-03T18:00:00.000Z',
    );
  });

  it('steps through a year of runs quickly', () => {
    const started = performance.now();
    const runs = allRuns(
      { kind: 'weekly', at: '09:00', timezone: 'Europe/Paris', weekdays: ['sun'] },
      { startAt: '2027-01-01T00:00:00.000Z', endAt: '2028-01-01T00:00:00.000Z' },
    );
    expect(runs).toHaveLength(52);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('daily', () => {
  it('keeps 08:30 New York time across the 2027-11-07 fall-back (25 hours apart that day)', () => {
    const r: Recurrence = { kind: 'daily', at: '08:30', timezone: 'America/New_York' };
    const runs = allRuns(r, { startAt: '2027-11-05T00:00:00.000Z', endAt: '2027-11-09T00:00:00.000Z' });
    expect(runs).toEqual([
      '2027-11-05T12:30:00.000Z', // EDT, UTC-4
      '2027-11-06T12:30:00.000Z',
      '2027-11-07T13:30:00.000Z', // EST, UTC-5
      '2027-11-08T13:30:00.000Z',
    ]);
    expect(runs.map((run) => local(run, 'America/New_York'))).toEqual([
      '2027-11-05 08:30',
      '2027-11-06 08:30',
      '2027-11-07 08:30',
      '2027-11-08 08:30',
    ]);
  });

  it('runs a local time skipped by the spring-forward gap once that day, shifted past the gap', () => {
    // 2027-03-28, Europe/Paris: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist.
    const r: Recurrence = { kind: 'daily', at: '02:30', timezone: 'Europe/Paris' };
    const runs = allRuns(r, { startAt: '2027-03-27T00:00:00.000Z', endAt: '2027-03-30T00:00:00.000Z' });
    expect(runs).toEqual([
      '2027-03-27T01:30:00.000Z', // 02:30 CET
      '2027-03-28T01:30:00.000Z', // 03:30 CEST: shifted forward by the gap's hour
      '2027-03-29T00:30:00.000Z', // 02:30 CEST
    ]);
    const onChangeDay = runs.filter((run) => local(run, 'Europe/Paris').startsWith('2027-03-28'));
    expect(onChangeDay).toHaveLength(1);
    expect(local(onChangeDay[0], 'Europe/Paris') >= '2027-03-28 03:00').toBe(true);
  });

  it('runs an ambiguous local time on the fall-back day once, at its first occurrence', () => {
    // 2027-10-31, Europe/Paris: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
    const r: Recurrence = { kind: 'daily', at: '02:30', timezone: 'Europe/Paris' };
    const window = { startAt: '2027-10-30T00:00:00.000Z', endAt: '2027-11-02T00:00:00.000Z' };
    expect(allRuns(r, window)).toEqual([
      '2027-10-30T00:30:00.000Z', // 02:30 CEST
      '2027-10-31T00:30:00.000Z', // first 02:30 (CEST), not the second at 01:30Z (CET)
      '2027-11-01T01:30:00.000Z', // 02:30 CET
    ]);
    // Asked between the two occurrences, the next run is the following day.
    expect(nextRunAt(r, new Date('2027-10-31T01:00:00.000Z'), window)?.toISOString()).toBe(
      '2027-11-01T01:30:00.000Z',
    );
  });

  it('runs once on a calendar day a zone skipped entirely (Samoa, 2011-12-30)', () => {
    const r: Recurrence = { kind: 'daily', at: '09:00', timezone: 'Pacific/Apia' };
    const runs = allRuns(r, { startAt: '2011-12-29T00:00:00.000Z', endAt: '2012-01-01T00:00:00.000Z' });
    expect(runs).toEqual([
      '2011-12-29T19:00:00.000Z', // 29 December 09:00, UTC-10
      '2011-12-30T19:00:00.000Z', // 31 December 09:00, UTC+14 (30 December did not happen)
      '2011-12-31T19:00:00.000Z',
    ]);
  });

  it('starts at startAt, not before', () => {
    const r: Recurrence = { kind: 'daily', at: '10:00', timezone: 'UTC' };
    const window = { startAt: '2027-05-01T10:00:00.000Z' };
    expect(nextRunAt(r, new Date('2027-01-01T00:00:00.000Z'), window)?.toISOString()).toBe(
      '2027-05-01T10:00:00.000Z',
    );
    expect(
      nextRunAt(r, new Date('2027-01-01T00:00:00.000Z'), {
        startAt: '2027-05-01T10:00:00.001Z',
      })?.toISOString(),
    ).toBe('2027-05-02T10:00:00.000Z');
  });
});

describe('monthly', () => {
  it('uses the last day of months shorter than dayOfMonth, and stops before endAt', () => {
    const r: Recurrence = { kind: 'monthly', at: '10:00', timezone: 'Europe/Paris', dayOfMonth: 31 };
    // endAt is exactly the April run: the window is half-open, so that run is out.
    const runs = allRuns(r, { startAt: '2027-01-01T00:00:00.000Z', endAt: '2027-04-30T08:00:00.000Z' });
    expect(runs).toEqual([
      '2027-01-31T09:00:00.000Z',
      '2027-02-28T09:00:00.000Z', // February 2027 has 28 days
      '2027-03-31T08:00:00.000Z', // CEST from 2027-03-28
    ]);
    expect(
      allRuns(r, { startAt: '2027-01-01T00:00:00.000Z', endAt: '2027-04-30T08:00:00.001Z' }).at(-1),
    ).toBe('2027-04-30T08:00:00.000Z');
  });

  it('handles leap years and days that every month has', () => {
    const last: Recurrence = { kind: 'monthly', at: '00:00', timezone: 'UTC', dayOfMonth: 30 };
    expect(allRuns(last, { startAt: '2028-02-01T00:00:00.000Z', endAt: '2028-04-01T00:00:00.000Z' })).toEqual(
      ['2028-02-29T00:00:00.000Z', '2028-03-30T00:00:00.000Z'],
    );
    const first: Recurrence = {
      kind: 'monthly',
      at: '23:59',
      timezone: 'America/Los_Angeles',
      dayOfMonth: 1,
    };
    expect(
      allRuns(first, { startAt: '2027-12-01T00:00:00.000Z', endAt: '2028-02-15T00:00:00.000Z' }),
    ).toEqual([
      '2027-12-02T07:59:00.000Z', // 1 December 23:59 PST (UTC-8)
      '2028-01-02T07:59:00.000Z',
      '2028-02-02T07:59:00.000Z',
    ]);
  });
});

describe('once', () => {
  const once: Recurrence = { kind: 'once' };

  it('runs at startAt, then never again', () => {
    const window = { startAt: '2027-06-01T09:00:00.000Z', endAt: '2027-07-01T00:00:00.000Z' };
    expect(nextRunAt(once, new Date('2027-05-01T00:00:00.000Z'), window)?.toISOString()).toBe(window.startAt);
    expect(nextRunAt(once, new Date('2027-06-01T08:59:59.999Z'), window)?.toISOString()).toBe(window.startAt);
    expect(nextRunAt(once, new Date(window.startAt), window)).toBeUndefined();
    expect(nextRunAt(once, new Date('2027-06-15T00:00:00.000Z'), window)).toBeUndefined();
  });

  it('runs as soon as activated without startAt (the caller passes activation − 1 ms)', () => {
    const activatedAt = Date.parse('2027-06-01T09:00:00.000Z');
    expect(nextRunAt(once, new Date(activatedAt - 1), {})?.getTime()).toBe(activatedAt);
    expect(nextRunAt(once, new Date(activatedAt - 1), { endAt: '2027-07-01T00:00:00.000Z' })?.getTime()).toBe(
      activatedAt,
    );
  });

  it('does not run at or past endAt', () => {
    const endAt = '2027-06-01T09:00:00.000Z';
    expect(nextRunAt(once, new Date('2027-05-01T00:00:00.000Z'), { startAt: endAt, endAt })).toBeUndefined();
    expect(nextRunAt(once, new Date(Date.parse(endAt) - 1), { endAt })).toBeUndefined();
    expect(nextRunAt(once, new Date('2027-06-02T00:00:00.000Z'), { endAt })).toBeUndefined();
  });
});

describe('reviewRecurrence', () => {
  const P = 'schedule.recurrence';
  const daily = (at: string, timezone = 'Europe/Paris'): Recurrence => ({ kind: 'daily', at, timezone });
  const weekly = (weekdays: string[]): Recurrence => ({
    kind: 'weekly',
    at: '09:00',
    timezone: 'Europe/Paris',
    weekdays: weekdays as Weekday[],
  });
  const monthly = (dayOfMonth: number): Recurrence => ({
    kind: 'monthly',
    at: '09:00',
    timezone: 'Europe/Paris',
    dayOfMonth,
  });

  it('accepts valid recurrences', () => {
    expect(reviewRecurrence({ kind: 'once' }, P)).toEqual([]);
    for (const at of ['00:00', '09:05', '23:59']) expect(reviewRecurrence(daily(at), P)).toEqual([]);
    expect(reviewRecurrence(daily('12:00', 'UTC'), P)).toEqual([]);
    expect(reviewRecurrence(weekly([...WEEKDAYS]), P)).toEqual([]);
    for (const day of [1, 28, 31]) expect(reviewRecurrence(monthly(day), P)).toEqual([]);
  });

  it.each(['24:00', '9:00', '09:60', '0900', '09:00:00', ' 09:00', ''])('refuses at = %j', (at) => {
    expect(reviewRecurrence(daily(at), P)).toEqual([
      { field: `${P}.at`, message: 'must be HH:mm (24-hour)' },
    ]);
  });

  it.each(['Europe/Pariss', 'Mars/Olympus_Mons', 'not a zone', ''])('refuses timezone = %j', (timezone) => {
    expect(reviewRecurrence(daily('09:00', timezone), P)).toEqual([
      { field: `${P}.timezone`, message: 'is not an IANA time zone' },
    ]);
  });

  it('refuses empty, unknown and duplicate weekdays', () => {
    expect(reviewRecurrence(weekly([]), P)).toEqual([
      { field: `${P}.weekdays`, message: 'must name at least one day' },
    ]);
    expect(reviewRecurrence(weekly(['mon', 'wed', 'mon']), P)).toEqual([
      { field: `${P}.weekdays.2`, message: 'repeats mon' },
    ]);
    expect(reviewRecurrence(weekly(['mon', 'Tue']), P)).toEqual([
      { field: `${P}.weekdays.1`, message: 'must be one of mon, tue, wed, thu, fri, sat, sun' },
    ]);
  });

  it.each([0, 32, -1, 1.5, Number.NaN])('refuses dayOfMonth = %p', (day) => {
    expect(reviewRecurrence(monthly(day), P)).toEqual([
      { field: `${P}.dayOfMonth`, message: 'must be an integer from 1 to 31' },
    ]);
  });

  it('reports every bad field, under the given prefix', () => {
    const r = { kind: 'monthly', at: '25:00', timezone: 'Nowhere/City', dayOfMonth: 0 } as Recurrence;
    expect(reviewRecurrence(r, 'spec.recurrence').map((e) => e.field)).toEqual([
      'spec.recurrence.at',
      'spec.recurrence.timezone',
      'spec.recurrence.dayOfMonth',
    ]);
    expect(reviewRecurrence({ kind: 'hourly' } as unknown as Recurrence, P)).toEqual([
      { field: `${P}.kind`, message: 'must be once, daily, weekly or monthly' },
    ]);
  });

  it('makes nextRunAt refuse an invalid recurrence or window', () => {
    expect(() => nextRunAt(daily('25:00'), new Date(0), {})).toThrow(RangeError);
    expect(() => nextRunAt(daily('09:00'), new Date(0), { endAt: 'tomorrow' })).toThrow(RangeError);
  });
});

describe('properties', () => {
  const ZONES = [
    'Europe/Paris',
    'America/New_York',
    'Australia/Sydney',
    'Asia/Kolkata',
    'America/Santiago',
    'UTC',
  ];
  const recurrence: fc.Arbitrary<Recurrence> = fc
    .record({
      kind: fc.constantFrom('daily' as const, 'weekly' as const, 'monthly' as const),
      at: fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([h, m]) => [h, m].map((n) => String(n).padStart(2, '0')).join(':')),
      timezone: fc.constantFrom(...ZONES),
      weekdays: fc.uniqueArray(fc.constantFrom(...WEEKDAYS), { minLength: 1 }),
      dayOfMonth: fc.integer({ min: 1, max: 31 }),
    })
    .map(({ kind, at, timezone, weekdays, dayOfMonth }): Recurrence => {
      if (kind === 'daily') return { kind, at, timezone };
      if (kind === 'weekly') return { kind, at, timezone, weekdays };
      return { kind, at, timezone, dayOfMonth };
    });
  const instant = fc.integer({ min: Date.parse('2026-01-01'), max: Date.parse('2030-01-01') });

  /** Whether `date` (a calendar date) is one the recurrence runs on. */
  const isRunDay = (r: Recurrence, date: DateTime) =>
    r.kind === 'daily' ||
    (r.kind === 'weekly' && r.weekdays.includes(WEEKDAYS[date.weekday - 1])) ||
    (r.kind === 'monthly' && date.day === Math.min(r.dayOfMonth, date.daysInMonth!));

  it('runs strictly after `after`, at the local time (or past a gap), on the first run day', () => {
    fc.assert(
      fc.property(recurrence, instant, (r, afterMs) => {
        if (r.kind === 'once') return;
        const run = nextRunAt(r, new Date(afterMs), {})!;
        expect(run.getTime()).toBeGreaterThan(afterMs);
        const wall = DateTime.fromJSDate(run, { zone: r.timezone });
        expect(isRunDay(r, wall)).toBe(true);
        if (wall.toFormat('HH:mm') !== r.at) {
          // Only a local time skipped by a spring-forward gap moves, and then forward.
          expect(DateTime.fromMillis(run.getTime() - 86_400_000, { zone: r.timezone }).offset).toBeLessThan(
            wall.offset,
          );
          expect(wall.toFormat('HH:mm') > r.at).toBe(true);
        }
        // No run day is skipped between `after` and the run.
        const runDate = DateTime.fromISO(wall.toISODate()!, { zone: 'UTC' });
        const afterDate = DateTime.fromISO(DateTime.fromMillis(afterMs, { zone: r.timezone }).toISODate()!, {
          zone: 'UTC',
        });
        for (let d = afterDate.plus({ days: 1 }); d < runDate; d = d.plus({ days: 1 })) {
          expect(isRunDay(r, d)).toBe(false);
        }
        // Asking again from just before the run gives the same run.
        expect(nextRunAt(r, new Date(run.getTime() - 1), {})).toEqual(run);
      }),
      { numRuns: 300 },
    );
  });
});
