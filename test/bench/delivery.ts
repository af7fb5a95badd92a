/**
 * `npm run bench:delivery [-- <profiles>]`: one run to N profiles (default 100,000) over the outbox,
 * next to the ceiling measured in the same run on the same database: a plain bulk INSERT of the same
 * rows (N message rows, rendered) into a copy of the messages table. Prints messages per second.
 */
import { randomUUID } from 'node:crypto';
import type { campaignWorkflow } from '../../workflows/campaign';
import { activateUpdate, campaignWorkflowId, projectedUpdate, stateQuery } from '../../workflows/messages';
import { startBenchStack } from './stack';

async function main(): Promise<void> {
  const profiles = Number(process.argv[2] ?? 100_000);
  const stack = await startBenchStack('bench-delivery');
  const { pool } = stack;
  try {
    const ids = Array.from({ length: profiles }, (_, i) => `p-${String(i).padStart(7, '0')}`);
    const seedStart = Date.now();
    for (let i = 0; i < profiles; i += 10_000) {
      const slice = ids.slice(i, i + 10_000);
      await pool.query(
        `INSERT INTO profiles (id, email, attributes)
         SELECT id, id || '@example.com', jsonb_build_object('firstName', 'Ada', 'tier', 'gold') FROM unnest($1::text[]) AS id`,
        [slice],
      );
    }
    const audienceId = randomUUID();
    await pool.query(`INSERT INTO audiences (id, name) VALUES ($1, 'bench')`, [audienceId]);
    await pool.query(`INSERT INTO audience_members SELECT $1, id FROM profiles`, [audienceId]);
    const seedSeconds = (Date.now() - seedStart) / 1000;

    // The ceiling: the same rows, rendered in JS, bulk-inserted into a copy of the table.
    await pool.query(`CREATE TABLE messages_ceiling (LIKE messages INCLUDING ALL)`);
    const campaignForCeiling = randomUUID();
    const ceilingStart = performance.now();
    for (let i = 0; i < profiles; i += 1000) {
      const slice = ids.slice(i, i + 1000);
      await pool.query(
        `INSERT INTO messages_ceiling (campaign_id, run_number, profile_id, version, status, rendered, sent_at)
         SELECT $1, 1, id, 1, 'sent', r, now() FROM unnest($2::text[], $3::jsonb[]) AS x(id, r)`,
        [
          campaignForCeiling,
          slice,
          slice.map(() => JSON.stringify({ subject: 'Hi Ada', body: 'Hello Ada, gold' })),
        ],
      );
    }
    const ceilingSeconds = (performance.now() - ceilingStart) / 1000;

    const id = randomUUID();
    const handle = await stack.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(id),
      taskQueue: stack.taskQueue,
      args: [
        {
          create: {
            campaignId: id,
            name: 'delivery bench',
            type: 'scheduled',
            channel: 'email',
            content: {
              sender: 'news@shop.example',
              subject: 'Hi {{firstName}}',
              body: 'Hello {{profile.firstName}}, {{profile.attributes.tier}}',
            },
            audience: { audienceId },
            requestId: 'create',
            actor: 'bench',
          },
        },
      ],
    });
    await handle.executeUpdate(projectedUpdate);
    const runStart = performance.now();
    await handle.executeUpdate(activateUpdate, { args: [{ requestId: 'activate', actor: 'bench' }] });
    while ((await handle.query(stateQuery)).status !== 'completed')
      await new Promise((r) => setTimeout(r, 50));
    const runSeconds = (performance.now() - runStart) / 1000;
    const sent = Number(
      (
        await pool.query(`SELECT count(*) AS n FROM messages WHERE campaign_id = $1 AND status = 'sent'`, [
          id,
        ])
      ).rows[0].n,
    );
    const run = (
      await pool.query(`SELECT started_at, finished_at FROM campaign_runs WHERE campaign_id = $1`, [id])
    ).rows[0];
    const deliverSeconds = (run.finished_at.getTime() - run.started_at.getTime()) / 1000;
    const ceiling = profiles / ceilingSeconds;
    const events = await pool.query(
      `SELECT action, at FROM campaign_events WHERE campaign_id = $1 ORDER BY id`,
      [id],
    );
    const t0 = events.rows[0].at.getTime();
    const timeline = Object.fromEntries([
      ...events.rows.map((e: { action: string; at: Date }) => [e.action, e.at.getTime() - t0]),
      ['runRowStarted', run.started_at.getTime() - t0],
      ['runRowFinished', run.finished_at.getTime() - t0],
    ]);
    const endToEnd = sent / runSeconds;
    console.log(
      JSON.stringify(
        {
          profiles,
          seedSeconds: Number(seedSeconds.toFixed(1)),
          messagesSent: sent,
          runSecondsActivateToCompleted: Number(runSeconds.toFixed(2)),
          runSecondsSnapshotToFinish: Number(deliverSeconds.toFixed(2)),
          messagesPerSecond: Math.round(endToEnd),
          ceilingBulkInsertRowsPerSecond: Math.round(ceiling),
          ratioToCeiling: Number((endToEnd / ceiling).toFixed(2)),
          timelineMs: timeline,
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
