/**
 * The campaign's commands, each shown only when the key's role and the campaign's state allow it:
 * Modify campaign, Review and activate, Discard draft, Duplicate, Stop campaign.
 */
import { useState } from 'preact/hooks';
import { ApiError, errorSentence, type Campaign, type FieldProblem } from '../api';
import { campaignHref, navigate, type Tab } from '../router';
import type { Session } from '../session';
import { ConfirmDialog } from './ConfirmDialog';
import type { Allowed } from './status';
import { StopDialog } from './StopDialog';

interface Props {
  session: Session;
  campaign: Campaign;
  allowed: Allowed;
  /** The draft's ETag (activation sends it as If-Match). */
  draftETag?: string | null;
  /** Unsaved edits in the editor: activation waits for them. */
  dirty: boolean;
  /** After a command: reload, show `notice`, open `tab`. */
  onChanged: (notice: string, tab?: Tab) => void;
  onError: (message: string, reviewErrors?: FieldProblem[]) => void;
}

type Open = 'activate' | 'discard' | 'stop' | undefined;

export function Actions({ session, campaign: c, allowed, draftETag, dirty, onChanged, onError }: Props) {
  const [open, setOpen] = useState<Open>();
  const [busy, setBusy] = useState(false);
  const api = session.api;

  async function run(action: () => Promise<void>) {
    setBusy(true);
    try {
      await action();
    } catch (e) {
      if (e instanceof ApiError && e.status === 422 && e.errors.length) {
        onError('Review found problems: fix the fields marked below, save, and activate again.', e.errors);
      } else if (e instanceof ApiError && e.status === 412) {
        onChanged(
          'Someone saved the draft after you loaded it: it has been reloaded; review it and activate again.',
        );
      } else onError(errorSentence(e));
    } finally {
      setBusy(false);
      setOpen(undefined);
    }
  }

  const next = (c.liveVersion ?? 0) + 1;
  return (
    <div class="actions toolbar" role="group" aria-label="Campaign actions">
      {allowed.modify && (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            run(async () => {
              await api.modify(c.id);
              onChanged(`A draft was started from the live version v${c.liveVersion}.`, 'draft');
            })
          }
        >
          Modify campaign
        </button>
      )}
      {allowed.activate && (
        <button
          type="button"
          disabled={busy || dirty}
          aria-describedby={dirty ? 'activate-hint' : undefined}
          onClick={() => setOpen('activate')}
        >
          Review and activate
        </button>
      )}
      {allowed.activate && dirty && (
        <span id="activate-hint" class="help">
          Save or undo your changes first.
        </span>
      )}
      {allowed.discard && (
        <button type="button" class="secondary" disabled={busy} onClick={() => setOpen('discard')}>
          Discard draft
        </button>
      )}
      {allowed.duplicate && (
        <button
          type="button"
          class="secondary"
          disabled={busy}
          onClick={() =>
            run(async () => {
              const copy = (await api.duplicate(c.id)).body;
              navigate(campaignHref(copy.id, 'draft'));
            })
          }
        >
          Duplicate
        </button>
      )}
      {allowed.stop && (
        <button type="button" class="danger" disabled={busy} onClick={() => setOpen('stop')}>
          Stop campaign
        </button>
      )}

      {open === 'activate' && (
        <ConfirmDialog
          title="Review and activate"
          confirm={`Activate as v${next}`}
          busy={busy}
          onCancel={() => setOpen(undefined)}
          onConfirm={() =>
            run(async () => {
              await api.activate(c.id, draftETag ?? '*');
              onChanged(`Version v${next} is live.`, 'live');
            })
          }
        >
          <p>
            {c.liveVersion === null
              ? `The draft is reviewed and becomes version v${next}; the campaign starts on its schedule.`
              : `The draft is reviewed and becomes version v${next}. Activating replaces the live version ` +
                `v${c.liveVersion}: every message from then on uses v${next}.`}
          </p>
        </ConfirmDialog>
      )}
      {open === 'discard' && (
        <ConfirmDialog
          title="Discard the draft?"
          confirm="Discard draft"
          danger
          busy={busy}
          onCancel={() => setOpen(undefined)}
          onConfirm={() =>
            run(async () => {
              await api.discard(c.id);
              onChanged(`The draft was discarded; v${c.liveVersion} keeps running unchanged.`, 'live');
            })
          }
        >
          <p>Its edits are lost. The live version v{c.liveVersion} keeps running unchanged.</p>
        </ConfirmDialog>
      )}
      {open === 'stop' && (
        <StopDialog
          session={session}
          campaign={c}
          onDone={(stopped) => {
            setOpen(undefined);
            if (stopped) onChanged('The campaign was stopped.');
          }}
        />
      )}
    </div>
  );
}
