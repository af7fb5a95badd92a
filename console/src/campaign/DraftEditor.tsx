/**
 * The draft editor: content fields for the campaign's channel with a live preview, the schedule, the
 * audience and the throttle. Saves with `If-Match`; when someone saved first (412) it says who changed
 * what and lets you load their version or save yours over it.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, errorSentence, type Campaign, type Draft, type FieldProblem, type Reply } from '../api';
import type { Session } from '../session';
import { ErrorLine, when } from '../ui';
import { conflictSentence } from './conflict';
import { editOf, formOf, type DraftForm } from './draft-form';
import { Field } from './Field';
import { CONTENT_FIELDS, errorsFor } from './fields';
import { Preview } from './Preview';
import { ScheduleFields } from './ScheduleFields';

interface Props {
  session: Session;
  campaign: Campaign;
  draft: Reply<Draft>;
  /** Review errors from the last activation attempt, shown next to their fields. */
  reviewErrors: FieldProblem[];
  onSaved: (draft: Reply<Draft>) => void;
  onDirty: (dirty: boolean) => void;
  /** Whether the key may edit and the campaign is not read-only. */
  editable: boolean;
}

export function DraftEditor(props: Props) {
  const { session, campaign, draft, reviewErrors, onSaved, onDirty, editable } = props;
  const [form, setForm] = useState<DraftForm>(() => formOf(draft.body));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [saveErrors, setSaveErrors] = useState<FieldProblem[]>([]);
  const [conflict, setConflict] = useState<{ current: Reply<Draft>; sentence: string }>();
  const [saved, setSaved] = useState('');
  useEffect(() => {
    setForm(formOf(draft.body));
    setConflict(undefined);
  }, [draft.etag]);

  const dirty = useMemo(
    () => JSON.stringify(editOf(form)) !== JSON.stringify(editOf(formOf(draft.body))),
    [form, draft],
  );
  useEffect(() => onDirty(dirty), [dirty]);
  const errors = [...saveErrors, ...reviewErrors];
  const set = (patch: Partial<DraftForm>) => {
    setSaved('');
    setForm({ ...form, ...patch });
  };

  async function save(etag: string) {
    setBusy(true);
    setError('');
    setSaveErrors([]);
    try {
      const reply = await session.api.editDraft(campaign.id, editOf(form), etag);
      setConflict(undefined);
      setSaved(`Draft saved (revision ${reply.body.revision}).`);
      onSaved(reply);
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        const current = await session.api.draft(campaign.id);
        setConflict({ current, sentence: conflictSentence(draft.body, current.body) });
      } else {
        setError(errorSentence(e));
        if (e instanceof ApiError) setSaveErrors(e.errors);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="editor" aria-labelledby="draft-heading">
      <h2 id="draft-heading">Draft{draft.body.basedOn ? ` (based on v${draft.body.basedOn})` : ''}</h2>
      <p class="meta">
        Last saved {when(draft.body.updatedAt)} by {draft.body.updatedBy}, revision {draft.body.revision}.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save(draft.etag!);
        }}
      >
        <div class="editor-columns">
          <div>
            <fieldset>
              <legend>Content</legend>
              {CONTENT_FIELDS[campaign.channel].map((f) => (
                <Field
                  key={f.key}
                  id={`content-${f.key}`}
                  label={f.label}
                  help={f.help}
                  errors={errorsFor(errors, `content.${f.key}`)}
                >
                  {(a) => {
                    const common = {
                      ...a,
                      value: form.content[f.key] ?? '',
                      disabled: !editable,
                      onInput: (e: Event) =>
                        set({
                          content: { ...form.content, [f.key]: (e.currentTarget as HTMLInputElement).value },
                        }),
                    };
                    return f.multiline ? (
                      <textarea rows={6} {...common} />
                    ) : (
                      <input type="text" {...common} />
                    );
                  }}
                </Field>
              ))}
            </fieldset>
            <ScheduleFields form={form} set={set} errors={errors} disabled={!editable} />
            <fieldset>
              <legend>Delivery</legend>
              <Field
                id="audience"
                label="Audience id"
                help="The audience to send to; empty: nothing is sent."
                errors={errorsFor(errors, 'audience')}
              >
                {(a) => (
                  <input
                    {...a}
                    type="text"
                    value={form.audienceId}
                    disabled={!editable}
                    onInput={(e) => set({ audienceId: e.currentTarget.value })}
                  />
                )}
              </Field>
              <Field
                id="throttle"
                label="Throttle (messages per second)"
                help="Empty: no limit."
                errors={errorsFor(errors, 'throttle')}
              >
                {(a) => (
                  <input
                    {...a}
                    type="number"
                    min={1}
                    value={form.throttle}
                    disabled={!editable}
                    onInput={(e) => set({ throttle: e.currentTarget.value })}
                  />
                )}
              </Field>
            </fieldset>
          </div>
          <Preview session={session} content={form.content} channel={campaign.channel} />
        </div>
        <ErrorLine message={error} />
        {conflict && (
          <div role="alert" class="conflict">
            <p>
              <strong>Someone else saved this draft first.</strong> {conflict.sentence}
            </p>
            <button type="button" class="secondary" onClick={() => onSaved(conflict.current)}>
              Load their version (drop my changes)
            </button>
            <button type="button" onClick={() => void save(conflict.current.etag!)}>
              Save mine over theirs
            </button>
          </div>
        )}
        {saved && (
          <p role="status" class="ok">
            {saved}
          </p>
        )}
        {editable && (
          <div class="actions">
            <button type="submit" disabled={busy || !dirty}>
              Save draft
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy || !dirty}
              onClick={() => set(formOf(draft.body))}
            >
              Undo changes
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
