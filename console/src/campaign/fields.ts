/** What each channel's content holds, and the names people read for API field paths. */
import type { Content } from '../api';

export interface ContentField {
  // The text fields; contextSchema (api_triggered) is not edited here yet.
  key: Exclude<keyof Content, 'contextSchema'>;
  label: string;
  multiline?: boolean;
  templated?: boolean;
  help?: string;
}

const SENDER: ContentField = { key: 'sender', label: 'Sender address' };
const SUBJECT: ContentField = { key: 'subject', label: 'Subject', templated: true };
const TITLE: ContentField = { key: 'title', label: 'Title', templated: true };
const BODY: ContentField = {
  key: 'body',
  label: 'Message',
  multiline: true,
  templated: true,
  help: 'Handlebars: {{firstName}}, {{profile.attributes.tier}}, {{default profile.nickname "friend"}}.',
};
const URL_FIELD: ContentField = { key: 'url', label: 'Target URL' };

export const CONTENT_FIELDS: Record<string, ContentField[]> = {
  email: [SENDER, SUBJECT, BODY],
  sms: [BODY],
  push: [TITLE, BODY],
  webhook: [URL_FIELD, { ...BODY, label: 'Payload' }],
};

const NAMES: Record<string, string> = {
  'content.sender': 'Sender address',
  'content.subject': 'Subject',
  'content.title': 'Title',
  'content.body': 'Message',
  'content.url': 'Target URL',
  'schedule.startAt': 'Start',
  'schedule.endAt': 'End',
  'schedule.recurrence': 'Recurrence',
  'schedule.recurrence.at': 'Time of day',
  'schedule.recurrence.timezone': 'Time zone',
  'schedule.recurrence.weekdays': 'Weekdays',
  'schedule.recurrence.dayOfMonth': 'Day of the month',
  audience: 'Audience',
  'audience.audienceId': 'Audience',
  throttle: 'Throttle',
};

/** "content.subject" → "Subject"; unknown paths are shown as they are. */
export function fieldName(path: string): string {
  return NAMES[path] ?? NAMES[path.replace(/\.\d+$/, '')] ?? path;
}

/** The review errors of one field (and of anything under it). */
export function errorsFor(errors: Array<{ field: string; message: string }>, path: string): string[] {
  return errors.filter((e) => e.field === path || e.field.startsWith(`${path}.`)).map((e) => e.message);
}
