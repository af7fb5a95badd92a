/** A version (or draft) shown read-only: content by channel, schedule, audience, throttle. */
import type { Draft, Schedule, Version } from '../api';
import { when } from '../ui';
import { CONTENT_FIELDS } from './fields';

export function describeSchedule(schedule: Schedule): string {
  const r = schedule.recurrence;
  const start = schedule.startAt ? `from ${when(schedule.startAt)}` : 'from activation';
  const end = schedule.endAt ? `until ${when(schedule.endAt)}` : 'with no end';
  let repeat = 'once';
  if (r?.kind === 'daily') repeat = `daily at ${r.at} (${r.timezone})`;
  if (r?.kind === 'weekly') repeat = `weekly on ${r.weekdays.join(', ')} at ${r.at} (${r.timezone})`;
  if (r?.kind === 'monthly') repeat = `monthly on day ${r.dayOfMonth} at ${r.at} (${r.timezone})`;
  return `Runs ${repeat}, ${start}, ${end}.`;
}

export function VersionView({
  spec,
  channel,
  headingId,
}: {
  spec: Version | Draft;
  channel: string;
  headingId?: string;
}) {
  return (
    <dl class="spec" aria-labelledby={headingId}>
      {CONTENT_FIELDS[channel].map((f) => (
        <div key={f.key}>
          <dt>{f.label}</dt>
          <dd class={f.multiline ? 'multiline' : undefined}>{spec.content[f.key] || '—'}</dd>
        </div>
      ))}
      <div>
        <dt>Schedule</dt>
        <dd>{describeSchedule(spec.schedule)}</dd>
      </div>
      <div>
        <dt>Audience</dt>
        <dd>{spec.audience?.audienceId ?? 'None (nothing is sent)'}</dd>
      </div>
      <div>
        <dt>Throttle</dt>
        <dd>{spec.throttle ? `${spec.throttle} messages per second` : 'None'}</dd>
      </div>
    </dl>
  );
}

/** The live version in full, read-only: the "Open live version" view. */
export function LiveVersion({ version, channel }: { version: Version; channel: string }) {
  return (
    <section aria-labelledby="live-heading">
      <h2 id="live-heading">Live version v{version.number} (read-only)</h2>
      <p class="meta">
        Activated {when(version.activatedAt)} by {version.activatedBy}
        {version.basedOn ? `, based on v${version.basedOn}` : ''}.
      </p>
      <VersionView spec={version} channel={channel} headingId="live-heading" />
    </section>
  );
}
