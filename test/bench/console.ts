/**
 * Console benchmark: the JS bundle's gzipped size, and the time to first render of the campaign list
 * in Chromium with `count` campaigns in the read model. The rows are inserted straight into the
 * `campaigns` table (no workflows behind them): the list reads only the read model, and starting
 * 10,000 workflows would measure Temporal, not the console.
 */
import { randomUUID } from 'node:crypto';
import { buildConsole } from '../../toolchain/build-console';
import { launchBrowser } from '../harness/browser';
import type { BenchContext } from './scenarios';

export const CONSOLE_CEILINGS = { bundleKiB: 200, firstRenderMs: 2000 };

async function insertCampaigns(ctx: BenchContext, count: number): Promise<void> {
  const batch = 1000;
  for (let done = 0; done < count; done += batch) {
    const rows = Array.from({ length: Math.min(batch, count - done) }, (_, i) => {
      const id = randomUUID();
      const live = (done + i) % 3 !== 0;
      return {
        id,
        workflowId: `bench-console-${id}`,
        name: `console bench ${done + i}`,
        type: 'scheduled',
        channel: (['email', 'sms', 'push', 'webhook'] as const)[(done + i) % 4],
        status: live ? 'live' : 'draft',
        liveVersion: live ? 1 : null,
        hasDraft: (done + i) % 5 === 0,
        createdBy: 'bench-console',
      };
    });
    await ctx.prisma.campaign.createMany({ data: rows });
  }
}

export async function consoleScenario(ctx: BenchContext, count: number, samples = 5) {
  const bundle = await buildConsole();
  await insertCampaigns(ctx, count);
  const browser = await launchBrowser();
  const timings: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const context = await browser.newContext({
        baseURL: ctx.apiUrl,
        viewport: { width: 1280, height: 800 },
      });
      // Signed in already (the key in sessionStorage, as after the sign-in form).
      await context.addInitScript(
        (key) =>
          (
            globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
          ).sessionStorage.setItem('campaign-console.key', key),
        ctx.apiKey,
      );
      const page = await context.newPage();
      const started = Date.now();
      await page.goto('/');
      await page.locator('table.campaigns tbody tr').first().waitFor();
      timings.push(Date.now() - started);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  timings.sort((a, b) => a - b);
  return {
    campaignsInserted: count,
    bundleKiB: Math.round((bundle.bytes / 1024) * 10) / 10,
    bundleGzippedKiB: Math.round((bundle.gzipped / 1024) * 10) / 10,
    firstRenderMs: {
      p50: timings[Math.floor(timings.length / 2)],
      max: timings[timings.length - 1],
      samples,
    },
    ceilings: CONSOLE_CEILINGS,
  };
}
