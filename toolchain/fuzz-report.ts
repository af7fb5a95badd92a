/**
 * What `npm run fuzz` prints: its own summary of schemathesis's `--report json` document, and, when
 * the stage fails, the failure sections of schemathesis's output (kept whole in a log file). The
 * stage's output never holds schemathesis's progress or its `N passed N failed` lines: a CI log must
 * not hold lines that read like another test runner's summary.
 */
import { readFileSync } from 'node:fs';

/**
 * A failure type (schemathesis `Failure` class) printed but not failing the stage, with the reason;
 * on the operations `operations` matches (`METHOD /path` as schemathesis names them), or on all.
 */
export interface ReportOnly {
  type: string;
  operations?: RegExp;
  reason: string;
}

/** The parts of schemathesis's `--report json` document that the summary uses. */
export interface JsonReport {
  complete: boolean;
  running_time: number;
  seed: number | null;
  operations: { selected: number; tested: number; errored: number } | null;
  test_cases: { generated: number; with_failures: number; unique_failures: number; errored: number };
  failures: Array<{ type: string; code: string; title: string; count: number; operations: string[] }>;
  errors: Array<{ title: string; count: number }>;
}

/** The sections of schemathesis's output that say what failed (`=== FAILURES ===`, `=== ERRORS ===`). */
export function failureSections(log: string): string {
  const lines = log.split('\n');
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    const section = /^=+ ([A-Z][A-Z ]*[A-Z]) =+$/.exec(line.trim());
    if (section) inside = section[1] === 'FAILURES' || section[1] === 'ERRORS';
    if (inside) out.push(line);
  }
  return out.join('\n').trimEnd();
}

type Failure = JsonReport['failures'][number];

/**
 * Splits each failure type's operations into gating ones and report-only ones (with their reason).
 * The report counts failures per type, not per operation: a split type's count is the type's.
 */
export function classify(failures: Failure[], rules: ReportOnly[]) {
  const gating: Failure[] = [];
  const reportOnly: Array<Failure & { reason: string }> = [];
  for (const f of failures) {
    const left = new Set(f.operations);
    for (const rule of rules.filter((r) => r.type === f.type)) {
      const matched = [...left].filter((op) => !rule.operations || rule.operations.test(op));
      if (!matched.length) continue;
      matched.forEach((op) => left.delete(op));
      reportOnly.push({ ...f, operations: matched, reason: rule.reason });
    }
    if (left.size) gating.push({ ...f, operations: [...left] });
  }
  return { gating, reportOnly };
}

export interface SummaryOptions {
  reportOnly: ReportOnly[];
  logFile: string;
  reportDir: string;
}

/**
 * Prints the summary, and schemathesis's failure sections when the stage fails; returns whether the
 * stage passes.
 */
export function summarise(report: JsonReport, exitCode: number, options: SummaryOptions): boolean {
  const { logFile, reportDir } = options;
  const { gating, reportOnly } = classify(report.failures, options.reportOnly);
  const errors = report.errors.reduce((n, e) => n + e.count, 0);
  const line = (f: Failure) => `    ${f.code} ${f.title} (${f.type}) in ${f.operations.join(', ')}`;
  const operations = (fs: Failure[]) => fs.reduce((n, f) => n + f.operations.length, 0);
  const passed = report.complete && (exitCode === 0 || exitCode === 1) && !gating.length && !errors;
  const out = [
    '',
    '== fuzz summary',
    `  operations tested: ${report.operations?.tested ?? 0} of ${report.operations?.selected ?? 0} selected`,
    `  cases run:         ${report.test_cases.generated} (seed ${report.seed}, ${Math.round(report.running_time)} s)`,
    `  failures:          in ${operations(gating)} operations gating, in ${operations(reportOnly)} report-only (${report.test_cases.with_failures} failing cases), ${errors} errored requests (time-outs, connection errors)`,
    ...gating.map(line),
    ...report.errors.map((e) => `    error: ${e.title}: ${e.count}`),
    ...(reportOnly.length
      ? [
          '  report-only (do not fail the stage):',
          ...reportOnly.flatMap((f) => [line(f), `      why: ${f.reason}`]),
        ]
      : []),
  ];
  let verdict = passed ? 'PASSED' : 'FAILED';
  if (!report.complete || exitCode > 1) verdict += ` (schemathesis did not finish: exit ${exitCode})`;
  out.push(
    `  verdict:           ${verdict}`,
    `  reports:           ${reportDir} (schemathesis's own output: ${logFile})`,
    '',
  );
  if (!passed) {
    const sections = (() => {
      try {
        return failureSections(readFileSync(logFile, 'utf8'));
      } catch (error) {
        return `(schemathesis's output could not be read: ${(error as Error).message})`;
      }
    })();
    if (sections) out.push('== what schemathesis found (from its output)', sections, '');
  }
  process.stdout.write(out.join('\n'));
  return passed;
}
