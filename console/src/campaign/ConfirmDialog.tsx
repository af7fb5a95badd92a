/** A yes/no confirmation in a modal dialog; the safe choice has the focus. */
import type { ComponentChildren } from 'preact';
import { Dialog } from '../ui';

export function ConfirmDialog(props: {
  title: string;
  confirm: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  return (
    <Dialog title={props.title} onClose={props.onCancel}>
      {props.children}
      <div class="actions">
        <button
          type="button"
          class={props.danger ? 'danger' : undefined}
          disabled={props.busy}
          onClick={props.onConfirm}
        >
          {props.confirm}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel} autofocus>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
