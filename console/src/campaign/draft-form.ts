/**
 * The draft editor's form values and their conversion to and from the API's draft: local date-times
 * in a chosen time zone become ISO instants (luxon), the recurrence carries the same zone.
 */
import { DateTime } from 'luxon';
import type { Content, Draft, Schedule } from '../api';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export type RecurrenceKind = 'once' | 'daily' | 'weekly' | 'monthly';

export interface DraftForm {
  content: Content;
  start: string;
  end: string;
  timezone: string;
  kind: RecurrenceKind;
  at: string;
  weekdays: Weekday[];
  dayOfMonth: string;
  audienceId: string;
  throttle: string;
}

const LOCAL = "yyyy-LL-dd'T'HH:mm";

export const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

function toLocal(iso: string | undefined, zone: string): string {
  return iso ? DateTime.fromISO(iso).setZone(zone).toFormat(LOCAL) : '';
}

function toInstant(local: string, zone: string): string | undefined {
  if (!local) return undefined;
  const dt = DateTime.fromISO(local, { zone });
  return dt.isValid ? (dt.toUTC().toISO() ?? undefined) : undefined;
}

export function formOf(draft: Draft): DraftForm {
  const r = draft.schedule.recurrence;
  const timezone = r && r.kind !== 'once' ? r.timezone : browserZone();
  return {
    content: { ...draft.content },
    start: toLocal(draft.schedule.startAt, timezone),
    end: toLocal(draft.schedule.endAt, timezone),
    timezone,
    kind: r?.kind ?? 'once',
    at: r && r.kind !== 'once' ? r.at : '09:00',
    weekdays: r?.kind === 'weekly' ? (r.weekdays as Weekday[]) : ['mon'],
    dayOfMonth: r?.kind === 'monthly' ? String(r.dayOfMonth) : '1',
    audienceId: draft.audience?.audienceId ?? '',
    throttle: draft.throttle ? String(draft.throttle) : '',
  };
}

function scheduleOf(f: DraftForm): Schedule {
  const schedule: Schedule = {};
  const startAt = toInstant(f.start, f.timezone);
  const endAt = toInstant(f.end, f.timezone);
  if (startAt) schedule.startAt = startAt;
  if (endAt) schedule.endAt = endAt;
  if (f.kind === 'daily') schedule.recurrence = { kind: 'daily', at: f.at, timezone: f.timezone };
  if (f.kind === 'weekly') {
    schedule.recurrence = { kind: 'weekly', at: f.at, timezone: f.timezone, weekdays: f.weekdays };
  }
  if (f.kind === 'monthly') {
    const dayOfMonth = Number(f.dayOfMonth);
    schedule.recurrence = { kind: 'monthly', at: f.at, timezone: f.timezone, dayOfMonth };
  }
  return schedule;
}

/** The PATCH body for the whole form (content and schedule replace the draft's). */
export function editOf(f: DraftForm) {
  const content = Object.fromEntries(Object.entries(f.content).filter(([, v]) => v !== '' && v != null));
  const throttle = f.throttle.trim() === '' ? null : Number(f.throttle);
  return {
    content,
    schedule: scheduleOf(f),
    audience: f.audienceId.trim() ? { audienceId: f.audienceId.trim() } : null,
    throttle,
  };
}

export function timeZones(): string[] {
  const zones = Intl.supportedValuesOf?.('timeZone') ?? [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}
