/** Schedule inputs: start, end (local, in the chosen time zone), recurrence with its time of day. */
import type { DraftForm, RecurrenceKind, Weekday } from './draft-form';
import { WEEKDAYS, timeZones } from './draft-form';
import { Field } from './Field';
import { errorsFor } from './fields';

type Errors = Array<{ field: string; message: string }>;

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

export function ScheduleFields(props: {
  form: DraftForm;
  set: (patch: Partial<DraftForm>) => void;
  errors: Errors;
  disabled: boolean;
}) {
  const { form, set, errors, disabled } = props;
  const value = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  return (
    <fieldset>
      <legend>Schedule</legend>
      <Field
        id="schedule-timezone"
        label="Time zone"
        errors={errorsFor(errors, 'schedule.recurrence.timezone')}
      >
        {(a) => (
          <select
            {...a}
            value={form.timezone}
            disabled={disabled}
            onChange={(e) => set({ timezone: value(e) })}
          >
            {timeZones().map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        id="schedule-start"
        label="Start"
        help="Empty: starts when activated."
        errors={errorsFor(errors, 'schedule.startAt')}
      >
        {(a) => (
          <input
            {...a}
            type="datetime-local"
            value={form.start}
            disabled={disabled}
            onInput={(e) => set({ start: value(e) })}
          />
        )}
      </Field>
      <Field
        id="schedule-end"
        label="End"
        help="Empty: never ends."
        errors={errorsFor(errors, 'schedule.endAt')}
      >
        {(a) => (
          <input
            {...a}
            type="datetime-local"
            value={form.end}
            disabled={disabled}
            onInput={(e) => set({ end: value(e) })}
          />
        )}
      </Field>
      <Field id="schedule-kind" label="Recurrence" errors={errorsFor(errors, 'schedule.recurrence.kind')}>
        {(a) => (
          <select
            {...a}
            value={form.kind}
            disabled={disabled}
            onChange={(e) => set({ kind: value(e) as RecurrenceKind })}
          >
            <option value="once">Once</option>
            <option value="daily">Every day</option>
            <option value="weekly">Every week</option>
            <option value="monthly">Every month</option>
          </select>
        )}
      </Field>
      {form.kind !== 'once' && (
        <Field id="schedule-at" label="Time of day" errors={errorsFor(errors, 'schedule.recurrence.at')}>
          {(a) => (
            <input
              {...a}
              type="time"
              value={form.at}
              disabled={disabled}
              onInput={(e) => set({ at: value(e) })}
            />
          )}
        </Field>
      )}
      {form.kind === 'weekly' && (
        <fieldset class="weekdays">
          <legend>Weekdays</legend>
          {WEEKDAYS.map((day) => (
            <label key={day} class="check">
              <input
                type="checkbox"
                checked={form.weekdays.includes(day)}
                disabled={disabled}
                onChange={(e) =>
                  set({
                    weekdays: e.currentTarget.checked
                      ? WEEKDAYS.filter((d) => d === day || form.weekdays.includes(d))
                      : form.weekdays.filter((d) => d !== day),
                  })
                }
              />
              {DAY_NAMES[day]}
            </label>
          ))}
        </fieldset>
      )}
      {form.kind === 'monthly' && (
        <Field
          id="schedule-day"
          label="Day of the month"
          errors={errorsFor(errors, 'schedule.recurrence.dayOfMonth')}
        >
          {(a) => (
            <input
              {...a}
              type="number"
              min={1}
              max={31}
              value={form.dayOfMonth}
              disabled={disabled}
              onInput={(e) => set({ dayOfMonth: value(e) })}
            />
          )}
        </Field>
      )}
    </fieldset>
  );
}
