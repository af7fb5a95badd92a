/**
 * `npm run bench:history [-- <edits>]`: sends N (default 5000) edit updates to one campaign and
 * prints the history length of its current run, how many runs continue-as-new produced, the edit
 * latency, and checks nothing was lost (draft revision, projected history rows).
 */
import { randomUUID } from 'node:crypto';
import type { campaignWorkflow } from '../../workflows/campaign';
import { campaignWorkflowId, editUpdate, projectedUpdate } from '../../workflows/messages';
import { percentile, startBenchStack } from './stack';

async function main(): Promise<void> {
  const edits = Number(process.argv[2] ?? 5000);
  const stack = await startBenchStack();
  try {
    const campaignId = randomUUID();
    const handle = await stack.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(campaignId),
      taskQueue: stack.taskQueue,
      args: [
        {
          create: {
            campaignId,
            name: 'history bench',
            type: 'scheduled',
            channel: 'email',
            requestId: 'create',
            actor: 'bench',
          },
        },
      ],
    });
    await handle.executeUpdate(projectedUpdate);
    const runs = new Set<string>();
    const latencies: number[] = [];
    let maxHistory = 0;
    const started = Date.now();
    for (let i = 1; i <= edits; i++) {
      const t = performance.now();
      await handle.executeUpdate(editUpdate, {
        args: [{ requestId: `edit-${i}`, actor: 'bench', description: `edit ${i}` }],
      });
      latencies.push(performance.now() - t);
      if (i % 250 === 0 || i === edits) {
        const d = await handle.describe();
        runs.add(d.runId);
        maxHistory = Math.max(maxHistory, d.historyLength);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const final = await handle.describe();
    const state = await handle.executeUpdate(projectedUpdate);
    const rows = await stack.prisma.campaignEvent.count({ where: { campaignId, action: 'edit' } });
    latencies.sort((a, b) => a - b);
    console.log(
      JSON.stringify(
        {
          edits,
          seconds: Number(seconds.toFixed(1)),
          editsPerSecond: Number((edits / seconds).toFixed(1)),
          editLatencyMs: {
            p50: Number(percentile(latencies, 50).toFixed(1)),
            p99: Number(percentile(latencies, 99).toFixed(1)),
          },
          finalHistoryLength: final.historyLength,
          maxHistoryLengthSampled: maxHistory,
          runsSampled: runs.size,
          draftRevision: state.draft?.revision,
          projectedEditRows: rows,
        },
        null,
        2,
      ),
    );
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
