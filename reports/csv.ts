/**
 * A report as CSV (`Accept: text/csv`): one row per figure, with columns section, key, at, figure,
 * value: `totals` and `rates`, `reason` (key excluded/failed/machineOpened/botClicked, figure the
 * reason), `link` (key the link index), `version`, `run`/`execution`, `channel` (key: which),
 * `others` (key: how many runs/executions beyond the listed ones it sums) and `series` (at: the bucket).
 */
import { stringify } from 'csv-stringify/sync';
import type { Report } from './store';
import type { Figures, Rates } from './figures';

type Line = [section: string, key: string, at: string, figure: string, value: number | null];

function sliceLines(section: string, key: string, at: string, s: { figures: Figures; rates: Rates }): Line[] {
  return [
    ...Object.entries(s.figures).map(([f, v]): Line => [section, key, at, f, v]),
    ...Object.entries(s.rates).map(([f, v]): Line => [section, key, at, `${f}Rate`, v]),
  ];
}

export function reportCsv(report: Report): string {
  const lines: Line[] = [
    ...sliceLines('totals', '', '', report),
    ...Object.entries(report.reasons).flatMap(([key, reasons]: [string, Record<string, number>]) =>
      Object.entries(reasons).map(([reason, n]): Line => ['reason', key, '', reason, n]),
    ),
    ...report.links.flatMap((l): Line[] => [
      ['link', String(l.link), '', 'clicked', l.clicked],
      ['link', String(l.link), '', 'uniqueClicked', l.uniqueClicked],
    ]),
    ...report.byVersion.flatMap((v) => sliceLines('version', String(v.version), '', v)),
    ...report.bySource.flatMap((s) =>
      sliceLines(s.kind, s.kind === 'others' ? String(s.sources) : s.id, '', s),
    ),
    ...report.byChannel.flatMap((c) => sliceLines('channel', c.channel, '', c)),
    ...report.series.flatMap((p) =>
      Object.entries(p.figures).map(([f, v]): Line => ['series', '', p.at, f, v]),
    ),
  ];
  return stringify(lines, { header: true, columns: ['section', 'key', 'at', 'figure', 'value'] });
}
