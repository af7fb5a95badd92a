/** A labelled form control with its help and its errors next to it (announced, linked by id). */
import type { ComponentChildren } from 'preact';

export function Field(props: {
  id: string;
  label: string;
  help?: string;
  errors?: string[];
  children: (described: {
    id: string;
    'aria-describedby'?: string;
    'aria-invalid'?: boolean;
  }) => ComponentChildren;
}) {
  const errors = props.errors ?? [];
  const describedBy = [props.help ? `${props.id}-help` : '', errors.length ? `${props.id}-errors` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div class={`field${errors.length ? ' invalid' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children({
        id: props.id,
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
        ...(errors.length ? { 'aria-invalid': true } : {}),
      })}
      {props.help && (
        <p id={`${props.id}-help`} class="help">
          {props.help}
        </p>
      )}
      {errors.length > 0 && (
        <p id={`${props.id}-errors`} class="field-error">
          {props.label} {errors.join('; ')}.
        </p>
      )}
    </div>
  );
}
