/** Stop campaign: a confirmation that says it is final, the cancel/drain choice, then the receipt. */
import { useState } from 'preact/hooks';
import { errorSentence, type Campaign, type StopReceipt } from '../api';
import type { Session } from '../session';
import { Dialog, ErrorLine, when } from '../ui';

export function StopDialog(props: {
  session: Session;
  campaign: Campaign;
  onDone: (stopped: boolean) => void;
}) {
  const { session, campaign } = props;
  const [mode, setMode] = useState<'cancel' | 'drain'>('drain');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [receipt, setReceipt] = useState<StopReceipt>();

  if (receipt) {
    return (
      <Dialog title="Campaign stopped" onClose={() => props.onDone(true)}>
        <p role="status">
          {campaign.name} was stopped {when(receipt.stoppedAt)} by {receipt.stoppedBy}. This is the receipt.
        </p>
        <dl class="spec receipt">
          <div>
            <dt>How</dt>
            <dd>
              {receipt.mode === 'cancel'
                ? 'Cancelled: sending halted at once'
                : 'Drained: the current run finished'}
            </dd>
          </div>
          <div>
            <dt>Live version at the stop</dt>
            <dd>{receipt.liveVersion === null ? 'none' : `v${receipt.liveVersion}`}</dd>
          </div>
          <div>
            <dt>Messages sent</dt>
            <dd>{receipt.sent}</dd>
          </div>
          <div>
            <dt>Messages cancelled</dt>
            <dd>{receipt.cancelled}</dd>
          </div>
        </dl>
        <div class="actions">
          <button type="button" onClick={() => props.onDone(true)} autofocus>
            Close
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title={`Stop ${campaign.name}?`} onClose={() => props.onDone(false)}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError('');
          try {
            setReceipt((await session.api.stop(campaign.id, mode)).body.receipt);
          } catch (err) {
            setError(errorSentence(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <p class="warning">
          <strong>Stopping is final.</strong> The campaign becomes read-only for ever: it can never be
          reactivated, changed or duplicated.
        </p>
        <fieldset>
          <legend>What happens to the run in progress</legend>
          <label class="check">
            <input
              type="radio"
              name="mode"
              value="drain"
              checked={mode === 'drain'}
              onChange={() => setMode('drain')}
            />
            Drain: let the current run finish sending, then stop
          </label>
          <label class="check">
            <input
              type="radio"
              name="mode"
              value="cancel"
              checked={mode === 'cancel'}
              onChange={() => setMode('cancel')}
            />
            Cancel: stop sending at once
          </label>
        </fieldset>
        <ErrorLine message={error} />
        <div class="actions">
          <button type="submit" class="danger" disabled={busy}>
            Stop campaign for ever
          </button>
          <button type="button" class="secondary" onClick={() => props.onDone(false)} autofocus>
            Keep it running
          </button>
        </div>
      </form>
    </Dialog>
  );
}
