/** New campaign: name, channel, type and tags; it starts as a draft and opens in the editor. */
import { useState } from 'preact/hooks';
import { ApiError, errorSentence, type Campaign } from '../api';
import { Field } from '../campaign/Field';
import { campaignHref, navigate } from '../router';
import type { Session } from '../session';
import { Dialog, ErrorLine } from '../ui';

export function NewCampaign({ session, onClose }: { session: Session; onClose: () => void }) {
  const [values, setValues] = useState({ name: '', channel: 'email', type: 'scheduled', tags: '' });
  const [error, setError] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);
  const set = (name: keyof typeof values) => (e: Event) =>
    setValues({ ...values, [name]: (e.currentTarget as HTMLInputElement).value });

  return (
    <Dialog title="New campaign" onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError('');
          try {
            const tags = values.tags
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean);
            const body = { name: values.name, channel: values.channel, type: values.type, tags };
            const created = await session.api.call<Campaign>('POST', '/v1/campaigns', body);
            navigate(campaignHref(created.body.id, 'draft'));
          } catch (err) {
            setError(errorSentence(err));
            const errors = err instanceof ApiError ? err.errors : [];
            setFieldErrors(Object.fromEntries(errors.map((f) => [f.field.split('.')[0], [f.message]])));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Field id="new-name" label="Name" errors={fieldErrors.name}>
          {(a) => <input {...a} type="text" required value={values.name} onInput={set('name')} />}
        </Field>
        <Field id="new-channel" label="Channel" errors={fieldErrors.channel}>
          {(a) => (
            <select {...a} value={values.channel} onChange={set('channel')}>
              <option value="email">Email</option>
              <option value="sms">SMS</option>
              <option value="push">Push</option>
              <option value="webhook">Webhook</option>
            </select>
          )}
        </Field>
        <Field id="new-type" label="Type" errors={fieldErrors.type}>
          {(a) => (
            <select {...a} value={values.type} onChange={set('type')}>
              <option value="scheduled">Scheduled</option>
              <option value="api_triggered">API-triggered</option>
            </select>
          )}
        </Field>
        <Field id="new-tags" label="Tags" help="Comma-separated, optional." errors={fieldErrors.tags}>
          {(a) => <input {...a} type="text" value={values.tags} onInput={set('tags')} />}
        </Field>
        <ErrorLine message={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Create draft campaign
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
