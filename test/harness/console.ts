/**
 * A console session for browser tests: the API on a port of its own over the real stack, Chromium,
 * the console built, and helpers to sign in and to scan and save a screen. Every page it opened must
 * end without a script error or CSP refusal (`pageErrors`).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { buildConsole } from '../../toolchain/build-console';
import { startApiHarness, type ApiHarness } from './api';
import { launchBrowser, openPage, screenshot, seriousViolations } from './browser';

export interface ConsoleSession {
  api: ApiHarness;
  /** Opens the console and signs in with the key of `role` (the sign-in screen scanned as `shoot`). */
  signedIn(role: keyof ApiHarness['auth'], shoot?: string): Promise<Page>;
  /** Scans the screen with axe-core (no serious or critical violation) and saves it. */
  screen(page: Page, name: string): Promise<void>;
  /** Script errors and CSP refusals on every page opened so far. */
  pageErrors(): string[];
  stop(): Promise<void>;
}

export async function startConsoleSession(prefix: string): Promise<ConsoleSession> {
  const [api, browser] = await Promise.all([startApiHarness(prefix), launchBrowser(), buildConsole()]);
  const server: Server = api.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const opened: Array<{ errors: string[]; close(): Promise<void> }> = [];

  async function screen(page: Page, name: string): Promise<void> {
    expect({ screen: name, violations: await seriousViolations(page) }).toEqual({
      screen: name,
      violations: [],
    });
    await screenshot(page, name);
  }

  return {
    api,
    screen,
    async signedIn(role, shoot) {
      const opening = await openPage(browser, baseURL);
      opened.push(opening);
      const { page } = opening;
      await page.goto('/');
      await page.getByLabel('API key').fill(api.auth[role].replace('Bearer ', ''));
      if (shoot) await screen(page, shoot);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
      return page;
    },
    pageErrors: () => opened.flatMap((p) => p.errors),
    async stop() {
      await Promise.all(opened.map((p) => p.close()));
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
      await api.stop();
    },
  };
}
