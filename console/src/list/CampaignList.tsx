/**
 * The campaign list: name, channel, type, Status (with the draft icon for a live or scheduled
 * campaign with a draft in progress — it opens the draft), live version, updated. Filters, cursor
 * paging; archived campaigns are hidden unless the status filter asks for them (as the API does).
 */
import { useState } from 'preact/hooks';
import type { Campaign } from '../api';
import { campaignHref } from '../router';
import type { Session } from '../session';
import { ErrorLine, StatusBadge, useLoad, when } from '../ui';
import { DraftIcon } from './DraftIcon';
import { EMPTY_FILTERS, Filters, toQuery, type FilterValues } from './Filters';
import { NewCampaign } from './NewCampaign';

const PAGE_SIZE = 25;

export function CampaignList({ session }: { session: Session }) {
  const [filters, setFilters] = useState<FilterValues>(EMPTY_FILTERS);
  /** Cursors of the pages before this one (paging back), and this page's. */
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const [creating, setCreating] = useState(false);
  const { data, error, loading } = useLoad(
    () => session.api.list(toQuery(filters, PAGE_SIZE, cursor)),
    [session, filters, cursor],
  );

  return (
    <>
      <div class="title-row">
        <h1>Campaigns</h1>
        {session.can('edit') && (
          <button type="button" onClick={() => setCreating(true)}>
            New campaign
          </button>
        )}
      </div>
      {creating && <NewCampaign session={session} onClose={() => setCreating(false)} />}
      <Filters
        value={filters}
        onChange={(next) => {
          setFilters(next);
          setCursors([]);
        }}
      />
      <ErrorLine message={error} />
      <table class="campaigns" aria-busy={loading}>
        <caption class="visually-hidden">Campaigns, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Channel</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Live version</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((c) => (
            <Row key={c.id} campaign={c} />
          ))}
          {data && data.items.length === 0 && (
            <tr>
              <td colSpan={6}>No campaign matches these filters.</td>
            </tr>
          )}
        </tbody>
      </table>
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          class="secondary"
          disabled={cursors.length === 0}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Previous page
        </button>
        <button
          type="button"
          class="secondary"
          disabled={!data?.nextCursor}
          onClick={() => data?.nextCursor && setCursors([...cursors, data.nextCursor])}
        >
          Next page
        </button>
      </nav>
    </>
  );
}

const CHANNELS: Record<string, string> = { email: 'Email', sms: 'SMS', push: 'Push', webhook: 'Webhook' };
const TYPES: Record<string, string> = { scheduled: 'Scheduled', api_triggered: 'API-triggered' };

function Row({ campaign: c }: { campaign: Campaign }) {
  const draftInProgress = c.hasDraft && (c.status === 'live' || c.status === 'scheduled');
  return (
    <tr>
      <td>
        <a href={campaignHref(c.id)}>{c.name}</a>
      </td>
      <td>{CHANNELS[c.channel] ?? c.channel}</td>
      <td>{TYPES[c.type] ?? c.type}</td>
      <td>
        <span class="status">
          <StatusBadge status={c.status} />
          {draftInProgress && (
            <a
              class="draft-icon"
              href={campaignHref(c.id, 'draft')}
              aria-label={`Open the draft of ${c.name}`}
              title="A draft is in progress: open it"
            >
              <DraftIcon />
            </a>
          )}
        </span>
      </td>
      <td>{c.liveVersion === null ? '—' : `v${c.liveVersion}`}</td>
      <td>{when(c.updatedAt)}</td>
    </tr>
  );
}
