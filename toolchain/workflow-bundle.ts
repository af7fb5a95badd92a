/**
 * The workflow code bundled once, ahead of the workers (`WORKFLOW_BUNDLE`): what `npm run
 * start:cluster`, the test harness and the benchmarks hand their workers. webpack's progress is
 * kept quiet; only its errors are printed.
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

/** Bundles `workflows/` and writes it to `file`; returns the code. */
export async function writeWorkflowBundle(file: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: quiet,
  });
  writeFileSync(file, code);
  return code;
}
