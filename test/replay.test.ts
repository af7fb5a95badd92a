/**
 * Determinism guard: histories recorded from representative campaigns (test/histories, written by
 * `RECORD_HISTORIES=1 npm test -- test/campaign.workflow.test.ts`) must replay on the current
 * workflow code, histories recorded before each `patched()` change included. A change that would
 * break running campaigns fails here; version it with `patched()` instead. Re-record only for an
 * intended, unreleased change: recording rewrites the files the scenarios record.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';

const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of committed histories', () => {
  it('has representative histories to replay', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'modify-activate.json',
        'rejected-update.json',
        'scheduled-live-completed.json',
        'signals-and-replays.json',
        // A child run; a cancel stop with a run in flight; both sides of a continue-as-new.
        'child-run.json',
        'stop-cancel-run-in-flight.json',
        'continue-as-new-first.json',
        'continue-as-new-carried.json',
        // Behaviours later changed behind patched(): missed runs caught up one by one (runs-coalesce),
        // a one-shot version activated during a recurring run (run-end-live-version).
        'missed-occurrences.json',
        'replace-once-during-run.json',
        // Before API triggers: a stop closed no trigger queue (trigger-queue), and a template using the
        // call context was refused (call-context).
        'api-triggered-before-triggers.json',
        // Before schema-numbers: an edit signal whose contextSchema said multipleOf 0.01 was refused.
        'schema-numbers-signal.json',
        // Before dispatcher-yields: a busy dispatcher never let the workflow continue as new.
        'trigger-stream-long-history.json',
        // Before occurrences-from-activation: weekly → daily on a Thursday ran at once, for Thursday.
        'recurrence-change-thursday.json',
        // Before drain-holds-runs: a run that came due while a drain stop awaited its counts started.
        'drain-stop-overdue-run.json',
      ]),
    );
  });

  it.each(files)('%s replays on the current code', async (file) => {
    // History.fromObject rather than the SDK's JSON parser: npm installs two copies of protobufjs
    // 8 here (beside grpc's protobufjs 7), and the parser's `instanceof` checks fail across them.
    const history = temporal.api.history.v1.History.fromObject(
      JSON.parse(readFileSync(path.join(dir, file), 'utf8')),
    );
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! } },
      history,
      `replay-${file}`,
    );
  });
});
