/**
 * When a `scheduled` campaign's runs happen. Pure and deterministic (runs inside the workflow
 * sandbox): no I/O, no clock; only luxon's IANA zone data, through `IANAZone.offset`.
 *
 * Recurring runs are wall-clock times in the recurrence's time zone, so they follow daylight saving:
 * Mondays 09:00 Europe/Paris is 08:00Z in winter and 07:00Z in summer. On the days a zone changes
 * its offset:
 * - a local time in a spring-forward gap (02:30 Europe/Paris on the last Sunday of March) is shifted
 *   forward by the length of the gap (03:30 CEST), as luxon, java.time and RFC 5545 do;
 * - an ambiguous local time on a fall-back day (02:30 Europe/Paris on the last Sunday of October)
 *   runs once, at its first occurrence (the offset before the change).
 *
 * The local→instant conversion is done here rather than with `DateTime.fromObject`, whose pick
 * between the two occurrences of an ambiguous time depends on the current time (`Settings.now()`).
 */
import { IANAZone } from 'luxon';
import type { FieldError } from './review';

export type { FieldError };

/** Weekdays as a weekly recurrence names them, Monday first. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** One weekday. */
export type Weekday = (typeof WEEKDAYS)[number];

/** How often a `scheduled` campaign runs. `once`: a single run at the window start (or at activation). */
export type Recurrence =
  | { kind: 'once' }
  /** Every day at `at` ('HH:mm', local time in `timezone`). */
  | { kind: 'daily'; at: string; timezone: string }
  /** On each of `weekdays` at `at`. */
  | { kind: 'weekly'; at: string; timezone: string; weekdays: Weekday[] }
  /** On day `dayOfMonth` (1..31) at `at`; a month without that day uses its last day. */
  | { kind: 'monthly'; at: string; timezone: string; dayOfMonth: number };

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MINUTE = 60_000;
const DAY = 86_400_000;
/** More than enough days to find the next run of any valid recurrence (monthly: ≤ 63). */
const MAX_DAYS = 400;

/** Field errors for a recurrence; field names are prefixed with `prefix` (e.g. 'schedule.recurrence'). */
export function reviewRecurrence(r: Recurrence, prefix: string): FieldError[] {
  const errors: FieldError[] = [];
  const error = (field: string, message: string) => errors.push({ field: `${prefix}.${field}`, message });
  switch (r.kind) {
    case 'once':
      return errors;
    case 'daily':
    case 'weekly':
    case 'monthly':
      break;
    default:
      error('kind', 'must be once, daily, weekly or monthly');
      return errors;
  }
  if (typeof r.at !== 'string' || !HH_MM.test(r.at)) error('at', 'must be HH:mm (24-hour)');
  if (typeof r.timezone !== 'string' || !IANAZone.isValidZone(r.timezone)) {
    error('timezone', 'is not an IANA time zone');
  }
  if (r.kind === 'weekly') {
    if (!Array.isArray(r.weekdays) || r.weekdays.length === 0) {
      error('weekdays', 'must name at least one day');
    } else {
      r.weekdays.forEach((day, i) => {
        if (!(WEEKDAYS as readonly unknown[]).includes(day)) {
          error(`weekdays.${i}`, `must be one of ${WEEKDAYS.join(', ')}`);
        } else if (r.weekdays.indexOf(day) < i) {
          error(`weekdays.${i}`, `repeats ${day}`);
        }
      });
    }
  }
  if (r.kind === 'monthly' && !(Number.isInteger(r.dayOfMonth) && r.dayOfMonth >= 1 && r.dayOfMonth <= 31)) {
    error('dayOfMonth', 'must be an integer from 1 to 31');
  }
  return errors;
}

/**
 * The first run instant strictly after `after`, within [startAt, endAt) when given (ISO-8601 strings).
 * Returns undefined when there is no further run (past the end).
 *
 * `once`: the single run is at `startAt`; without `startAt` it is "as soon as activated", which the
 * caller asks for with `after` = activation time − 1 ms, getting `after` + 1 ms. Either way there is
 * no run once `after` >= that instant, or when it is not before `endAt`.
 *
 * Recurring kinds step through local calendar days (at most ~63 for monthly, 9 for weekly).
 *
 * @throws RangeError when the recurrence has field errors or a window bound is not an ISO-8601
 *   instant (both are refused at review, so this is a programming error).
 */
export function nextRunAt(
  r: Recurrence,
  after: Date,
  window: { startAt?: string; endAt?: string },
): Date | undefined {
  const start = instant(window.startAt, 'startAt');
  const end = instant(window.endAt, 'endAt') ?? Infinity;
  const afterMs = after.getTime();
  if (Number.isNaN(afterMs)) throw new RangeError('nextRunAt: after is an invalid Date');

  if (r.kind === 'once') {
    const candidate = start ?? afterMs + 1;
    return candidate > afterMs && candidate < end ? new Date(candidate) : undefined;
  }

  const errors = reviewRecurrence(r, 'recurrence');
  if (errors.length) {
    throw new RangeError(`nextRunAt: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
  }
  const earliest = Math.max(afterMs + 1, start ?? -Infinity);
  if (earliest >= end) return undefined;

  const zone = IANAZone.create(r.timezone);
  const [hour, minute] = r.at.split(':').map(Number);
  const minuteOfDay = hour * 60 + minute;
  const weekdays = r.kind === 'weekly' ? new Set(r.weekdays.map((d) => WEEKDAYS.indexOf(d))) : undefined;

  // Local calendar days, as whole days since 1970-01-01. Start one day before the local day of
  // `earliest`: around offset changes the previous day's run can be the first one at or after it.
  const firstDay = Math.floor((earliest + zone.offset(earliest) * MINUTE) / DAY) - 1;
  for (let day = firstDay; day < firstDay + MAX_DAYS; day++) {
    if (weekdays && !weekdays.has(weekdayIndex(day))) continue;
    if (r.kind === 'monthly' && !isRunDayOfMonth(day, r.dayOfMonth)) continue;
    const run = localToInstant(zone, day * DAY + minuteOfDay * MINUTE);
    if (run < earliest) continue;
    return run < end ? new Date(run) : undefined;
  }
  return undefined;
}

function instant(iso: string | undefined, name: string): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`nextRunAt: ${name} is not an ISO-8601 instant: ${iso}`);
  return ms;
}

/** 0 = Monday … 6 = Sunday, as in WEEKDAYS (day 0, 1970-01-01, was a Thursday). */
function weekdayIndex(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** Whether local day `day` is the monthly run day: `dayOfMonth`, or the month's last day if shorter. */
function isRunDayOfMonth(day: number, dayOfMonth: number): boolean {
  const date = new Date(day * DAY);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  return date.getUTCDate() === Math.min(dayOfMonth, lastDay);
}

/**
 * The instant at which `zone`'s clocks show `wallMs` (a wall-clock time written as if it were UTC).
 * Of two such instants (fall-back), the first; of none (spring-forward gap), the wall time read with
 * the offset in effect before the gap, i.e. shifted forward by the gap's length.
 */
function localToInstant(zone: IANAZone, wallMs: number): number {
  // UTC offsets span -12h..+14h, so the instant is within a day of `wallMs`; the offsets a day
  // either side are the ones in effect around it (zones do not change offset twice in two days).
  const before = zone.offset(wallMs - DAY);
  const after = zone.offset(wallMs + DAY);
  const matches = [before, after]
    .map((offset) => wallMs - offset * MINUTE)
    .filter((ms) => wallMs - zone.offset(ms) * MINUTE === ms);
  return matches.length ? Math.min(...matches) : wallMs - before * MINUTE;
}
