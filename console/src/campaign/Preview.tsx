/**
 * The live preview: the draft's templates rendered against the sample profile by POST /v1/preview,
 * the same Handlebars environment review uses (so what fails here fails review too). Compiling
 * templates in the page would need `unsafe-eval` in the CSP; the API renders them instead.
 */
import { useEffect, useState } from 'preact/hooks';
import { errorSentence, type Content, type Preview as Rendered } from '../api';
import type { Session } from '../session';
import { CONTENT_FIELDS, errorsFor } from './fields';

const DEBOUNCE_MS = 250;

export function Preview({
  session,
  content,
  channel,
}: {
  session: Session;
  content: Content;
  channel: string;
}) {
  const [preview, setPreview] = useState<Rendered>();
  const [error, setError] = useState('');
  const key = JSON.stringify(content);
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      session.api.preview(content).then(
        (p) => current && (setPreview(p), setError('')),
        (e: unknown) => current && setError(errorSentence(e)),
      );
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [session, key]);

  const fields = CONTENT_FIELDS[channel].filter((f) => f.templated);
  const profile = preview?.profile;
  return (
    <section class="preview" aria-labelledby="preview-heading">
      <h3 id="preview-heading">Preview</h3>
      <p class="meta">
        {profile
          ? `For the sample profile ${profile.firstName} ${profile.lastName} (${profile.email}).`
          : 'Rendering…'}
      </p>
      {error && <p class="error">{error}</p>}
      {fields.map((f) => {
        const problems = preview ? errorsFor(preview.errors, `content.${f.key}`) : [];
        return (
          <div key={f.key} class="preview-field">
            <h4>{f.label}</h4>
            {problems.length > 0 ? (
              <p class="error">Does not render: {problems.join('; ')}</p>
            ) : (
              <p class="multiline" data-testid={`preview-${f.key}`}>
                {preview?.rendered[f.key] || '—'}
              </p>
            )}
          </div>
        );
      })}
    </section>
  );
}
