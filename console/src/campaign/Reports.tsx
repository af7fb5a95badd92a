/**
 * The campaign's reports: live (the last 24 hours, per minute) or global (all time or a range of UTC
 * days, per day); headline figures and rates, a chart of the series, breakdowns, a version comparison
 * when there are two versions or more, and the CSV download. A stopped campaign's reports stay here.
 */
import { useState } from 'preact/hooks';
import { errorSentence } from '../api';
import type { Session } from '../session';
import { ErrorLine, useLoad } from '../ui';
import { ReportChart } from './ReportChart';
import { Breakdowns, Comparison, Headline } from './ReportTables';

type Kind = 'live' | 'global';

interface Choice {
  kind: Kind;
  from: string;
  to: string;
  compare: string;
}

function query({ kind, from, to, compare }: Choice): URLSearchParams {
  const q = new URLSearchParams();
  if (kind === 'global' && from) q.set('from', from);
  if (kind === 'global' && to) q.set('to', to);
  if (compare) q.set('compare', compare);
  return q;
}

export function Reports({ session, id }: { session: Session; id: string }) {
  const [choice, setChoice] = useState<Choice>({ kind: 'live', from: '', to: '', compare: '' });
  const [csvError, setCsvError] = useState('');
  const versions = useLoad(() => session.api.versions(id), [session, id]);
  const {
    data: report,
    error,
    loading,
  } = useLoad(() => session.api.report(id, choice.kind, query(choice)), [session, id, choice]);
  const numbers = (versions.data?.items ?? []).map((v) => v.number).sort((a, b) => a - b);
  const pairs = numbers.flatMap((a, i) => numbers.slice(i + 1).map((b) => `${a},${b}`));
  const set = (change: Partial<Choice>) => setChoice((c) => ({ ...c, ...change }));

  async function download() {
    setCsvError('');
    try {
      const blob = await session.api.reportCsv(id, choice.kind, query(choice));
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `report-${choice.kind}-${id}.csv`;
      a.click();
      // Revoked later: the browser may still be reading the blob when click() returns.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setCsvError(errorSentence(e));
    }
  }

  return (
    <section aria-labelledby="reports-heading">
      <h2 id="reports-heading">Reports</h2>
      <form class="report-choice" onSubmit={(e) => e.preventDefault()}>
        <fieldset>
          <legend>Period</legend>
          {(['live', 'global'] as Kind[]).map((k) => (
            <label key={k}>
              <input type="radio" name="kind" checked={choice.kind === k} onChange={() => set({ kind: k })} />{' '}
              {k === 'live' ? 'Live: the last 24 hours, per minute' : 'Global: all time, per day'}
            </label>
          ))}
        </fieldset>
        {choice.kind === 'global' && (
          <>
            <label>
              From (UTC day){' '}
              <input type="date" value={choice.from} onChange={(e) => set({ from: e.currentTarget.value })} />
            </label>
            <label>
              To (UTC day){' '}
              <input type="date" value={choice.to} onChange={(e) => set({ to: e.currentTarget.value })} />
            </label>
          </>
        )}
        {pairs.length > 0 && (
          <label>
            Compare versions{' '}
            <select value={choice.compare} onChange={(e) => set({ compare: e.currentTarget.value })}>
              <option value="">No comparison</option>
              {pairs.map((p) => (
                <option key={p} value={p}>
                  {p.replace(/(\d+),(\d+)/, 'v$1 with v$2')}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" class="secondary" onClick={() => void download()}>
          Download CSV
        </button>
      </form>
      <ErrorLine message={csvError} />
      <ErrorLine message={error} />
      {loading && !report && <p class="loading">Loading…</p>}
      {report && (
        <div aria-busy={loading}>
          <p class="meta">
            {report.granularity === 'minute' ? 'The last 24 hours' : 'All time'}
            {report.from ? ` from ${report.from.slice(0, 16).replace('T', ' ')} UTC` : ''}
            {report.to ? ` to ${report.to.slice(0, 16).replace('T', ' ')} UTC` : ''}. People only: machine
            opens ({report.figures.machineOpened}) and bot clicks ({report.figures.botClicked}) are left out.
          </p>
          <Headline figures={report.figures} rates={report.rates} />
          <h3>Over time</h3>
          <ReportChart report={report} />
          <Breakdowns report={report} />
          {report.comparison && <Comparison comparison={report.comparison} />}
        </div>
      )}
    </section>
  );
}
