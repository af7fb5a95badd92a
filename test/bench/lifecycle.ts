/**
 * 1. Lifecycle: campaigns driven through create → activate → modify → edit → activate → stop, over
 * HTTP and (the ceiling) straight to the workflows with the Temporal client. `npm run bench` runs
 * both passes (lifecycleScenario); `npm run bench:profile` measures each pass's CPU (lifecycleRun).
 */
import { randomUUID } from 'node:crypto';
import {
  activateUpdate,
  editUpdate,
  modifyUpdate,
  projectedUpdate,
  stopUpdate,
} from '../../workflows/messages';
import { CONTENT, http, pool, startCampaign, stats, timed, type BenchContext, type Stats } from './scenarios';

const ACTIONS = ['create', 'activate', 'modify', 'edit', 'activate again', 'stop'] as const;
type Action = (typeof ACTIONS)[number];

/**
 * 1. Lifecycle: `campaigns` campaigns driven concurrently through create → activate → modify → edit →
 * activate → stop, over HTTP and (the ceiling) straight to the workflows with the Temporal client.
 */
export async function lifecycleScenario(ctx: BenchContext, campaigns: number, concurrency = 10) {
  const temporal = await lifecycleRun(ctx, 'temporal', campaigns, concurrency);
  const api = await lifecycleRun(ctx, 'http', campaigns, concurrency);
  return {
    campaigns,
    concurrency,
    api,
    temporalClientCeiling: temporal,
    throughputRatio: Number((temporal.actionsPerSecond / api.actionsPerSecond).toFixed(2)),
  };
}

/** One pass of the lifecycle scenario, over HTTP or straight through the Temporal client. */
export async function lifecycleRun(
  ctx: BenchContext,
  via: 'http' | 'temporal',
  campaigns: number,
  concurrency: number,
) {
  const call = http(ctx);
  const samples = Object.fromEntries(ACTIONS.map((a) => [a, [] as number[]])) as Record<Action, number[]>;
  const started = performance.now();
  await pool(campaigns, concurrency, async (i) => {
    if (via === 'http') {
      const { id } = await timed(samples.create, () =>
        call('POST', '/v1/campaigns', { name: `bench ${i}`, channel: 'email', content: CONTENT }),
      );
      await timed(samples.activate, () => call('POST', `/v1/campaigns/${id}/activate`, {}));
      await timed(samples.modify, () => call('POST', `/v1/campaigns/${id}/modify`, {}));
      await timed(samples.edit, () => call('PATCH', `/v1/campaigns/${id}/draft`, { throttle: 1000 }));
      await timed(samples['activate again'], () => call('POST', `/v1/campaigns/${id}/activate`, {}));
      await timed(samples.stop, () => call('POST', `/v1/campaigns/${id}/stop`, { mode: 'cancel' }));
    } else {
      const id = randomUUID();
      const meta = (a: string) => ({ requestId: `${a}-${id}`, actor: 'bench' });
      const handle = await timed(samples.create, async () => {
        const h = await startCampaign(ctx, id, {
          name: `bench ${i}`,
          ...meta('c'),
        });
        await h.executeUpdate(projectedUpdate);
        return h;
      });
      await timed(samples.activate, () => handle.executeUpdate(activateUpdate, { args: [meta('a1')] }));
      await timed(samples.modify, () => handle.executeUpdate(modifyUpdate, { args: [meta('m')] }));
      await timed(samples.edit, () =>
        handle.executeUpdate(editUpdate, { args: [{ ...meta('e'), throttle: 1000 }] }),
      );
      await timed(samples['activate again'], () =>
        handle.executeUpdate(activateUpdate, { args: [meta('a2')] }),
      );
      await timed(samples.stop, () =>
        handle.executeUpdate(stopUpdate, { args: [{ ...meta('s'), mode: 'cancel' }] }),
      );
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const all = ACTIONS.flatMap((a) => samples[a]);
  return {
    seconds: Number(seconds.toFixed(2)),
    actionsPerSecond: Number((all.length / seconds).toFixed(1)),
    all: stats(all, seconds),
    perAction: Object.fromEntries(ACTIONS.map((a) => [a, stats(samples[a], seconds)])) as Record<
      Action,
      Stats
    >,
  };
}
