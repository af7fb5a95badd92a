/** What someone else changed in the draft since we loaded it: a sentence naming who, what and when. */
import diff from 'microdiff';
import type { Draft } from '../api';
import { when } from '../ui';
import { fieldName } from './fields';

const spec = (d: Draft) => ({
  content: d.content,
  schedule: d.schedule,
  audience: d.audience ?? null,
  throttle: d.throttle ?? null,
});

/** "Subject", "Message": the fields that differ between `base` and `current`. */
export function changedFields(base: Draft, current: Draft): string[] {
  const paths = diff(spec(base), spec(current)).map((c) => {
    const [head, second] = c.path.map(String);
    return fieldName(head === 'content' || head === 'schedule' ? `${head}.${second}` : head);
  });
  return [...new Set(paths)];
}

export function conflictSentence(base: Draft, current: Draft): string {
  const fields = changedFields(base, current);
  const what = fields.length ? `changed ${fields.join(', ')}` : 'saved it again';
  return (
    `${current.updatedBy} ${what} in this draft at ${when(current.updatedAt)} while you were editing ` +
    `(revision ${current.revision}, you started from ${base.revision}). Your changes are not saved yet.`
  );
}
