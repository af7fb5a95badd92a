/** The list's filters: status, has draft, channel, tag, name search (applied on submit or change). */
import { useState } from 'preact/hooks';
import { STATUS_LABELS } from '../ui';

export interface FilterValues {
  status: string;
  hasDraft: string;
  channel: string;
  tag: string;
  q: string;
}

export const EMPTY_FILTERS: FilterValues = { status: '', hasDraft: '', channel: '', tag: '', q: '' };

export function toQuery(f: FilterValues, limit: number, cursor?: string): URLSearchParams {
  const query = new URLSearchParams({ limit: String(limit) });
  for (const [name, value] of Object.entries(f)) if (value.trim()) query.set(name, value.trim());
  if (cursor) query.set('cursor', cursor);
  return query;
}

export function Filters({ value, onChange }: { value: FilterValues; onChange: (f: FilterValues) => void }) {
  const [text, setText] = useState({ tag: value.tag, q: value.q });
  const select = (name: keyof FilterValues) => (e: Event) =>
    onChange({ ...value, ...text, [name]: (e.currentTarget as HTMLSelectElement).value });
  return (
    <form
      class="filters"
      role="search"
      aria-label="Filter campaigns"
      onSubmit={(e) => {
        e.preventDefault();
        onChange({ ...value, ...text });
      }}
    >
      <div class="field">
        <label for="filter-q">Name</label>
        <input
          id="filter-q"
          type="search"
          value={text.q}
          onInput={(e) => setText({ ...text, q: e.currentTarget.value })}
        />
      </div>
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" value={value.status} onChange={select('status')}>
          <option value="">All but archived</option>
          {Object.entries(STATUS_LABELS).map(([status, label]) => (
            <option key={status} value={status}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-draft">Draft in progress</label>
        <select id="filter-draft" value={value.hasDraft} onChange={select('hasDraft')}>
          <option value="">Any</option>
          <option value="true">With a draft</option>
          <option value="false">Without a draft</option>
        </select>
      </div>
      <div class="field">
        <label for="filter-channel">Channel</label>
        <select id="filter-channel" value={value.channel} onChange={select('channel')}>
          <option value="">Any</option>
          <option value="email">Email</option>
          <option value="sms">SMS</option>
          <option value="push">Push</option>
          <option value="webhook">Webhook</option>
        </select>
      </div>
      <div class="field">
        <label for="filter-tag">Tag</label>
        <input
          id="filter-tag"
          value={text.tag}
          onInput={(e) => setText({ ...text, tag: e.currentTarget.value })}
        />
      </div>
      <button type="submit">Apply filters</button>
    </form>
  );
}
