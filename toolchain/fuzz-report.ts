/**
 * What `npm run fuzz` prints: its own summary of schemathesis's `--report json` document, and, when
 * the stage fails, the failure sections of schemathesis's output (kept whole in a log file). The
 * stage's output never holds schemathesis's progress or its `N passed N failed` lines: a CI log must
 * not hold lines that read like another test runner's summary.
 */
import { readFileSync } from 'node:fs';

/**
 * Failure types (schemathesis `Failure` classes) that are printed but do not fail the stage:
 * - RejectedPositiveData (positive_data_acceptance): a schema-valid request refused with a status
 *   toolchain/schemathesis.toml does not expect (in practice 400). What it still flags are rules JSON
 *   Schema cannot state: a `cursor` must be a `nextCursor` this API returned (opaque, like every
 *   keyset cursor), `to` must not be before `from`, email syntax beyond `format: email`; and
 *   `If-Match` values schemathesis draws from its own ETag grammar (lists of tags, bare values)
 *   rather than from the stated pattern (one entity-tag or `*`).
 * - EnsureResourceAvailability (ensure_resource_availability): follows links schemathesis infers, such
 *   as POST /v1/campaigns → GET /v1/campaigns/{id}/live, which is a 404 by design until activation.
 */
export const REPORT_ONLY = new Set(['RejectedPositiveData', 'EnsureResourceAvailability']);

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

/**
 * Prints the summary, and schemathesis's failure sections when the stage fails; returns whether the
 * stage passes.
 */
export function summarise(report: JsonReport, exitCode: number, logFile: string, reportDir: string): boolean {
  const gating = report.failures.filter((f) => !REPORT_ONLY.has(f.type));
  const reportOnly = report.failures.filter((f) => REPORT_ONLY.has(f.type));
  const errors = report.errors.reduce((n, e) => n + e.count, 0);
  const line = (f: JsonReport['failures'][number]) =>
    `    ${f.code} ${f.title} (${f.type}): ${f.count} in ${f.operations.join(', ')}`;
  const passed = report.complete && (exitCode === 0 || exitCode === 1) && !gating.length && !errors;
  const out = [
    '',
    '== fuzz summary',
    `  operations tested: ${report.operations?.tested ?? 0} of ${report.operations?.selected ?? 0} selected`,
    `  cases run:         ${report.test_cases.generated} (seed ${report.seed}, ${Math.round(report.running_time)} s)`,
    `  failures:          ${gating.reduce((n, f) => n + f.count, 0)} gating, ${reportOnly.reduce((n, f) => n + f.count, 0)} report-only, ${errors} errored requests (time-outs, connection errors)`,
    ...gating.map(line),
    ...report.errors.map((e) => `    error: ${e.title}: ${e.count}`),
    ...(reportOnly.length ? ['  report-only (do not fail the stage):', ...reportOnly.map(line)] : []),
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
