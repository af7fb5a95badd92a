/** The report's headline figures and rates as cards, and its breakdowns as tables. */
import type { ComponentChildren } from 'preact';
import type { Report, ReportFigures, ReportRates } from '../api';

const HEADLINE: Array<[keyof ReportFigures, string]> = [
  ['targeted', 'Targeted'],
  ['sent', 'Sent'],
  ['delivered', 'Delivered'],
  ['uniqueOpened', 'Opened (unique)'],
  ['uniqueClicked', 'Clicked (unique)'],
  ['unsubscribed', 'Unsubscribed'],
  ['bouncedHard', 'Hard bounces'],
  ['bouncedSoft', 'Soft bounces'],
  ['failed', 'Failed'],
  ['excluded', 'Excluded'],
  ['complained', 'Complaints'],
];

const COLUMNS: Array<[keyof ReportFigures, string]> = [
  ['targeted', 'Targeted'],
  ['sent', 'Sent'],
  ['delivered', 'Delivered'],
  ['uniqueOpened', 'Opened'],
  ['uniqueClicked', 'Clicked'],
  ['unsubscribed', 'Unsubscribed'],
  ['bouncedHard', 'Bounced'],
];

export const percent = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(1)} %`);

export function Headline({ figures, rates }: { figures: ReportFigures; rates: ReportRates }) {
  return (
    <>
      <dl class="figures">
        {HEADLINE.map(([key, label]) => (
          <div key={key} class="figure">
            <dt>{label}</dt>
            <dd data-figure={key}>{figures[key]}</dd>
          </div>
        ))}
      </dl>
      <p class="rates">
        Delivery rate {percent(rates.delivery)} of sent; unique open rate {percent(rates.uniqueOpen)} and
        unique click rate {percent(rates.uniqueClick)} of delivered; click-to-open{' '}
        {percent(rates.clickToOpen)}.
      </p>
    </>
  );
}

interface Row {
  key: string;
  label: ComponentChildren;
  figures: ReportFigures;
  rates: ReportRates;
}

export function SliceTable(props: { id: string; title: string; first: string; rows: Row[] }) {
  return (
    <section aria-labelledby={props.id}>
      <h3 id={props.id}>{props.title}</h3>
      {props.rows.length === 0 ? (
        <p>Nothing in this period.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{props.first}</th>
              {COLUMNS.map(([key, label]) => (
                <th key={key} scope="col">
                  {label}
                </th>
              ))}
              <th scope="col">Open rate</th>
              <th scope="col">Click rate</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.label}</th>
                {COLUMNS.map(([key]) => (
                  <td key={key}>{r.figures[key]}</td>
                ))}
                <td>{percent(r.rates.uniqueOpen)}</td>
                <td>{percent(r.rates.uniqueClick)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The API lists the 100 largest runs/executions, then one `others` row that sums the rest. */
function sourceLabel(s: Report['bySource'][number]): string {
  if (s.kind === 'others') return `Others (${s.sources ?? 0} smaller runs or executions)`;
  return s.kind === 'run' ? `Run #${s.id}` : `Execution ${s.id}`;
}

export function Breakdowns({ report }: { report: Report }) {
  return (
    <>
      <SliceTable
        id="by-version"
        title="By version"
        first="Version"
        rows={report.byVersion.map((v) => ({ key: String(v.version), label: `v${v.version}`, ...v }))}
      />
      <SliceTable
        id="by-source"
        title="By run or execution"
        first="Run or execution"
        rows={report.bySource.map((s) => ({
          key: `${s.kind}-${s.id}`,
          label: sourceLabel(s),
          ...s,
        }))}
      />
      <SliceTable
        id="by-channel"
        title="By channel"
        first="Channel"
        rows={report.byChannel.map((c) => ({ key: c.channel, label: c.channel, ...c }))}
      />
    </>
  );
}

/** Two versions side by side, and the difference of their rates. */
export function Comparison({ comparison }: { comparison: NonNullable<Report['comparison']> }) {
  const [a, b] = comparison.versions;
  const delta = (r: number | null) =>
    r === null ? '—' : `${r >= 0 ? '+' : ''}${(r * 100).toFixed(1)} points`;
  return (
    <>
      <SliceTable
        id="comparison"
        title="Version comparison"
        first="Version"
        rows={comparison.versions.map((v) => ({ key: String(v.version), label: `v${v.version}`, ...v }))}
      />
      {a && b && (
        <p>
          v{b.version} against v{a.version}: unique open rate {delta(comparison.rateDelta.uniqueOpen)}, unique
          click rate {delta(comparison.rateDelta.uniqueClick)}, delivery rate{' '}
          {delta(comparison.rateDelta.delivery)}.
        </p>
      )}
    </>
  );
}
