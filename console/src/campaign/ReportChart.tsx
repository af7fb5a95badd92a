/**
 * The report's series as an SVG line chart (sent, opened, clicked per bucket), with a text alternative:
 * the chart is an image named by a caption, and a visually hidden table holds the same numbers.
 */
import type { Report } from '../api';
import { when } from '../ui';

const LINES = [
  { key: 'sent', label: 'Sent', class: 'line-sent' },
  { key: 'uniqueOpened', label: 'Opened (unique)', class: 'line-opened' },
  { key: 'uniqueClicked', label: 'Clicked (unique)', class: 'line-clicked' },
] as const;

const W = 640;
const H = 200;
const PAD = { left: 40, right: 10, top: 10, bottom: 24 };

export function bucketLabel(at: string, granularity: Report['granularity']): string {
  return granularity === 'day' ? at.slice(0, 10) : when(at);
}

export function ReportChart({ report }: { report: Report }) {
  const { series, granularity } = report;
  if (series.length === 0) return <p>No activity in this period yet, so there is no chart.</p>;
  const times = series.map((p) => Date.parse(p.at));
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const max = Math.max(1, ...series.flatMap((p) => LINES.map((l) => p.figures[l.key])));
  const x = (t: number) => PAD.left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const per = granularity === 'day' ? 'day' : 'minute';
  const caption = `Sent, unique opens and unique clicks per ${per}, ${series.length} ${per}${
    series.length === 1 ? '' : 's'
  } with activity, from ${bucketLabel(series[0].at, granularity)} to ${bucketLabel(
    series[series.length - 1].at,
    granularity,
  )}; at most ${max} in one ${per}.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="chart-caption">
        <line class="axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
        <line class="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} />
        <text x={PAD.left - 6} y={y(max) + 4} text-anchor="end">
          {max}
        </text>
        <text x={PAD.left - 6} y={y(0) + 4} text-anchor="end">
          0
        </text>
        {LINES.map((l) => (
          <g key={l.key} class={l.class}>
            <polyline points={series.map((p, i) => `${x(times[i])},${y(p.figures[l.key])}`).join(' ')} />
            {series.map((p, i) => (
              <circle key={p.at} cx={x(times[i])} cy={y(p.figures[l.key])} r="3" />
            ))}
          </g>
        ))}
      </svg>
      <figcaption id="chart-caption">{caption}</figcaption>
      <ul class="legend" aria-hidden="true">
        {LINES.map((l) => (
          <li key={l.key} class={l.class}>
            {l.label}
          </li>
        ))}
      </ul>
      <table class="visually-hidden">
        <caption>The chart’s numbers, per {per}</caption>
        <thead>
          <tr>
            <th scope="col">{granularity === 'day' ? 'Day' : 'Minute'}</th>
            {LINES.map((l) => (
              <th key={l.key} scope="col">
                {l.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {series.map((p) => (
            <tr key={p.at}>
              <th scope="row">{bucketLabel(p.at, granularity)}</th>
              {LINES.map((l) => (
                <td key={l.key}>{p.figures[l.key]}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
