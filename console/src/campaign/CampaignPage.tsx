/**
 * A campaign: its state, the commands it allows, and tabs — the draft editor next to the live
 * version, the live version alone ("Open live version"), versions with diffs, history, runs.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Campaign, Draft, FieldProblem, Reply, Version } from '../api';
import { campaignHref, type Tab } from '../router';
import type { Session } from '../session';
import { ErrorLine, StatusBadge, useLoad, when } from '../ui';
import { Actions } from './Actions';
import { DraftEditor } from './DraftEditor';
import { History } from './History';
import { Reports } from './Reports';
import { Runs } from './Runs';
import { allowed, readOnlyReason } from './status';
import { LiveVersion } from './VersionView';
import { Versions } from './Versions';

interface Loaded {
  campaign: Campaign;
  draft?: Reply<Draft>;
  live?: Version;
}

async function load(session: Session, id: string): Promise<Loaded> {
  const campaign = await session.api.campaign(id);
  const [draft, live] = await Promise.all([
    campaign.hasDraft ? session.api.draft(id) : undefined,
    campaign.liveVersion !== null ? session.api.live(id) : undefined,
  ]);
  return { campaign, draft, live };
}

const TAB_LABELS: Record<Tab, string> = {
  draft: 'Draft',
  live: 'Live version',
  versions: 'Versions',
  history: 'History',
  runs: 'Runs and messages',
  reports: 'Reports',
};

export function CampaignPage({ session, id, tab }: { session: Session; id: string; tab?: Tab }) {
  const { data, error, reload } = useLoad(() => load(session, id), [session, id]);
  const [draft, setDraft] = useState<Reply<Draft>>();
  const [notice, setNotice] = useState('');
  const [actionError, setActionError] = useState('');
  const [reviewErrors, setReviewErrors] = useState<FieldProblem[]>([]);
  const [dirty, setDirty] = useState(false);
  useEffect(() => setDraft(data?.draft), [data]);

  if (!data) return error ? <ErrorLine message={error} /> : <p class="loading">Loading…</p>;
  const { campaign: c, live } = data;
  const can = allowed(c, session);
  const tabs = (['draft', 'live', 'versions', 'history', 'runs', 'reports'] as Tab[]).filter(
    (t) => (t !== 'draft' || draft) && (t !== 'live' || live),
  );
  const current = tab && tabs.includes(tab) ? tab : draft ? 'draft' : live ? 'live' : 'versions';
  const reason = readOnlyReason(c);

  return (
    <>
      <p class="breadcrumb">
        <a href="#/">Campaigns</a>
      </p>
      <h1>
        {c.name} <StatusBadge status={c.status} />
      </h1>
      <p class="meta">
        {c.channel} · {c.type === 'api_triggered' ? 'API-triggered' : 'scheduled'} · live version{' '}
        {c.liveVersion === null ? 'none' : `v${c.liveVersion}`} · updated {when(c.updatedAt)}
        {c.tags.length > 0 && ` · tags: ${c.tags.join(', ')}`}
      </p>
      {reason && (
        <p class="read-only" role="note">
          {reason}
        </p>
      )}
      <Actions
        session={session}
        campaign={c}
        allowed={can}
        draftETag={draft?.etag}
        dirty={dirty}
        onChanged={(message, next) => {
          setNotice(message);
          setActionError('');
          setReviewErrors([]);
          setDirty(false);
          reload();
          if (next) window.location.hash = campaignHref(c.id, next);
        }}
        onError={(message, errors) => {
          setNotice('');
          setActionError(message);
          setReviewErrors(errors ?? []);
          if (errors?.length) window.location.hash = campaignHref(c.id, 'draft');
        }}
      />
      {notice && (
        <p role="status" class="ok">
          {notice}
        </p>
      )}
      <ErrorLine message={actionError} />
      <nav class="tabs" aria-label="Campaign sections">
        {tabs.map((t) => (
          <a key={t} href={campaignHref(c.id, t)} aria-current={t === current ? 'page' : undefined}>
            {TAB_LABELS[t]}
          </a>
        ))}
      </nav>
      {current === 'draft' && draft && (
        <div class={live ? 'side-by-side' : undefined}>
          <DraftEditor
            session={session}
            campaign={c}
            draft={draft}
            reviewErrors={reviewErrors}
            editable={can.edit}
            onSaved={(saved) => {
              setDraft(saved);
              setReviewErrors([]);
            }}
            onDirty={setDirty}
          />
          {live && (
            <aside class="live-aside" aria-label="Live version">
              <a class="button secondary" href={campaignHref(c.id, 'live')}>
                Open live version
              </a>
              <LiveVersion version={live} channel={c.channel} />
            </aside>
          )}
        </div>
      )}
      {current === 'live' && live && <LiveVersion version={live} channel={c.channel} />}
      {current === 'versions' && (
        <Versions
          session={session}
          campaign={c}
          canRollback={can.rollback}
          onRolledBack={(n) => {
            setNotice(`A draft was made from v${n}: review it and activate it to roll back.`);
            reload();
            window.location.hash = campaignHref(c.id, 'draft');
          }}
        />
      )}
      {current === 'history' && <History session={session} id={c.id} />}
      {current === 'runs' && <Runs session={session} id={c.id} />}
      {current === 'reports' && <Reports session={session} id={c.id} />}
    </>
  );
}
