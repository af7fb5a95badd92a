/** What the console may offer for a campaign, from its status and the signed-in key's role. */
import type { Campaign } from '../api';
import type { Session } from '../session';
import { when } from '../ui';

const READ_ONLY = ['stopped', 'completed', 'archived', 'failed'];

export function isReadOnly(c: Campaign): boolean {
  return READ_ONLY.includes(c.status);
}

/** The line saying why a campaign is read-only. */
export function readOnlyReason(c: Campaign): string | undefined {
  const receipt = c.stopReceipt;
  switch (c.status) {
    case 'stopped':
      return (
        `Stopped ${receipt ? `${when(receipt.stoppedAt)} by ${receipt.stoppedBy} ` : ''}` +
        '— read-only for ever: it can never be reactivated, changed or duplicated.'
      );
    case 'completed':
      return `Completed ${when(c.updatedAt)}: its schedule has ended, so it is read-only.`;
    case 'archived':
      return `Archived: it ${c.finishedAs === 'stopped' ? 'was stopped' : 'completed'} and is read-only.`;
    case 'failed':
      return 'Failed: the campaign could not continue and is read-only.';
    default:
      return undefined;
  }
}

export interface Allowed {
  modify: boolean;
  activate: boolean;
  discard: boolean;
  duplicate: boolean;
  stop: boolean;
  rollback: boolean;
  edit: boolean;
}

export function allowed(c: Campaign, session: Session): Allowed {
  const running = c.status === 'live' || c.status === 'scheduled';
  const open = !isReadOnly(c);
  const edit = session.can('edit');
  const publish = session.can('publish');
  return {
    edit: edit && open && c.hasDraft,
    modify: edit && running && !c.hasDraft,
    activate: publish && open && c.hasDraft,
    discard: edit && open && c.hasDraft && c.liveVersion !== null,
    duplicate: edit && c.status !== 'stopped' && !(c.status === 'archived' && c.finishedAs === 'stopped'),
    stop: publish && running,
    rollback: edit && running && !c.hasDraft,
  };
}
