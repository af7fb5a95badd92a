/**
 * The web console in a real browser (Chromium through playwright-core) against the real stack: the
 * API on a port of its own, the Temporal dev server, a real worker, PostgreSQL. The source
 * document's scenario (create, activate, Modify campaign, the draft icon opens the draft, Open live
 * version shows v1 unchanged, edit and activate v2, the icon gone, Stop campaign with its receipt,
 * then read-only); a viewer sees no command; a refused review puts each error next to its field; a
 * draft saved behind the page's back gives a 412 naming who changed what. No script error or CSP
 * refusal. Chromium is Debian's (toolchain/chromium.ts). Every screen is scanned with axe-core (no serious or critical violation) and saved as a screenshot. Waits are
 * Playwright's (a locator waits until the page shows what is asked), never a fixed time.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import request from 'supertest';
import type { ApiHarness } from './harness/api';
import { startConsoleSession, type ConsoleSession } from './harness/console';

const EMAIL = {
  sender: 'news@shop.example',
  subject: 'Spring sale, {{firstName}}',
  body: 'Dear {{firstName}}, it is on.',
};

describe('web console in a real browser', () => {
  let session: ConsoleSession;
  let api: ApiHarness;
  let signedIn: ConsoleSession['signedIn'];
  let screen: ConsoleSession['screen'];

  beforeAll(async () => {
    session = await startConsoleSession('console');
    ({ api, signedIn, screen } = session);
  }, 600_000);

  afterAll(() => session?.stop());

  afterEach(() => {
    // No script error and no CSP refusal on any page a test opened.
    expect(session.pageErrors()).toEqual([]);
  });

  const v1 = (method: 'get' | 'post' | 'patch', path: string, role: keyof ApiHarness['auth'] = 'admin') =>
    request(api.app)[method](path).set('Authorization', api.auth[role]);

  /** A live campaign with a draft in progress, made through the API. */
  async function liveWithDraft(name: string): Promise<string> {
    const created = await v1('post', '/v1/campaigns')
      .send({ name, channel: 'email', content: EMAIL })
      .expect(201);
    await v1('post', `/v1/campaigns/${created.body.id}/activate`).send({}).expect(200);
    await v1('post', `/v1/campaigns/${created.body.id}/modify`).send({}).expect(201);
    return created.body.id;
  }

  /** The list filtered to one name; returns the row of that campaign. */
  async function listRow(page: Page, name: string) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
    await row.waitFor();
    return row;
  }

  /** Review and activate, confirmed, for a first version that review refuses. */
  async function reviewAttempt(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Review and activate' }).click();
    await page
      .getByRole('dialog', { name: 'Review and activate' })
      .getByRole('button', { name: 'Activate as v1' })
      .click();
  }

  async function reviewAndActivate(page: Page, version: number): Promise<void> {
    await page.getByRole('button', { name: 'Review and activate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Review and activate' });
    if (version > 1) await dialog.getByText(`Activating replaces the live version v${version - 1}`).waitFor();
    await dialog.getByRole('button', { name: `Activate as v${version}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Version v${version} is live.` })
      .waitFor();
  }

  it('runs the source document’s scenario: modify a live campaign, activate, stop', async () => {
    const name = `Spring sale ${randomUUID().slice(0, 8)}`;
    const page = await signedIn('admin', 'sign-in');
    await screen(page, 'list-empty-filters');

    // Create, fill the draft (the preview renders it), save, activate: v1.
    await page.getByRole('button', { name: 'New campaign' }).click();
    const create = page.getByRole('dialog', { name: 'New campaign' });
    await create.getByLabel('Name').fill(name);
    await screen(page, 'new-campaign');
    await create.getByRole('button', { name: 'Create draft campaign' }).click();
    await page.getByRole('heading', { name: 'Draft', exact: true }).waitFor();
    await page.getByLabel('Sender address').fill(EMAIL.sender);
    await page.getByLabel('Subject', { exact: true }).fill(EMAIL.subject);
    await page.getByLabel('Message', { exact: true }).fill(EMAIL.body);
    await page.getByTestId('preview-subject').filter({ hasText: 'Spring sale, Ada' }).waitFor();
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved (revision').waitFor();
    await reviewAndActivate(page, 1);
    await page.getByRole('heading', { name: 'Live version v1 (read-only)' }).waitFor();

    // Modify campaign: a draft from v1; the list shows the draft icon, which opens the draft.
    await page.getByRole('button', { name: 'Modify campaign' }).click();
    await page.getByRole('heading', { name: 'Draft (based on v1)' }).waitFor();
    let row = await listRow(page, name);
    await row.getByText('Live', { exact: true }).waitFor();
    await screen(page, 'list-with-draft-icon');
    await row.getByRole('link', { name: `Open the draft of ${name}` }).click();
    await page.getByRole('heading', { name: 'Draft (based on v1)' }).waitFor();
    expect(page.url()).toMatch(/\/draft$/);

    // Edit the draft, next to the live version; Open live version still shows v1 unchanged.
    await page.getByLabel('Subject', { exact: true }).fill('Last days, {{firstName}}');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved (revision 2).').waitFor();
    await page.getByTestId('preview-subject').filter({ hasText: 'Last days, Ada' }).waitFor();
    await screen(page, 'campaign-draft-next-to-live');
    await page.getByRole('link', { name: 'Open live version' }).click();
    const live = page.getByRole('main');
    await live.getByRole('heading', { name: 'Live version v1 (read-only)' }).waitFor();
    expect(await live.locator('dl.spec').innerText()).toContain(EMAIL.subject);
    expect(await live.locator('dl.spec').innerText()).not.toContain('Last days');
    await screen(page, 'campaign-live-version');

    // Activate the edit: v2 is live, the icon is gone.
    await page.getByRole('link', { name: 'Draft', exact: true }).click();
    await reviewAndActivate(page, 2);
    await page.getByRole('heading', { name: 'Live version v2 (read-only)' }).waitFor();
    row = await listRow(page, name);
    await row.getByRole('cell', { name: 'v2', exact: true }).waitFor();
    expect(await row.getByRole('link', { name: `Open the draft of ${name}` }).count()).toBe(0);

    // Versions side by side, then history.
    await row.getByRole('link', { name }).click();
    await page.getByRole('link', { name: 'Versions' }).click();
    await page
      .getByRole('table', { name: 'What changed from v1 to v2' })
      .getByText('Last days, {{firstName}}')
      .waitFor();
    await screen(page, 'campaign-versions-diff');
    await page.getByRole('link', { name: 'History' }).click();
    await page.getByRole('cell', { name: 'Activated', exact: true }).first().waitFor();
    await screen(page, 'campaign-history');
    await page.getByRole('link', { name: 'Runs and messages' }).click();
    await page.getByRole('heading', { name: 'Messages' }).waitFor();
    await screen(page, 'campaign-runs');

    // Stop campaign: final, cancel or drain, then the receipt; read-only afterwards.
    await page.getByRole('button', { name: 'Stop campaign' }).click();
    const stop = page.getByRole('dialog', { name: `Stop ${name}?` });
    await stop.getByText('Stopping is final.').waitFor();
    await stop.getByLabel('Cancel: stop sending at once').check();
    await screen(page, 'stop-confirmation');
    await stop.getByRole('button', { name: 'Stop campaign for ever' }).click();
    const receipt = page.getByRole('dialog', { name: 'Campaign stopped' });
    await receipt.getByText('Cancelled: sending halted at once').waitFor();
    expect(await receipt.innerText()).toContain('v2');
    await screen(page, 'stop-receipt');
    await receipt.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('note').filter({ hasText: 'read-only for ever' }).waitFor();
    await screen(page, 'campaign-stopped');
    const actions = page.getByRole('group', { name: 'Campaign actions' });
    expect(await actions.getByRole('button').allInnerTexts()).toEqual([]);
    for (const control of ['Review and activate', 'Modify campaign', 'Duplicate', 'Stop campaign']) {
      expect(await page.getByRole('button', { name: control }).count()).toBe(0);
    }
    expect((await v1('get', `/v1/campaigns?q=${encodeURIComponent(name)}`).expect(200)).body.items).toEqual([
      expect.objectContaining({ status: 'stopped', liveVersion: 2, hasDraft: false }),
    ]);
  }, 300_000);

  it('shows a viewer no action: no command button, the draft read-only', async () => {
    const name = `Viewer ${randomUUID().slice(0, 8)}`;
    const id = await liveWithDraft(name);
    const page = await signedIn('viewer');
    expect(await page.getByRole('button', { name: 'New campaign' }).count()).toBe(0);
    const row = await listRow(page, name);
    await row.getByRole('link', { name: `Open the draft of ${name}` }).click();
    await page.getByRole('heading', { name: 'Draft (based on v1)' }).waitFor();
    expect(page.url()).toContain(id);
    expect(await page.getByRole('group', { name: 'Campaign actions' }).getByRole('button').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Save draft' }).count()).toBe(0);
    expect(await page.getByLabel('Subject', { exact: true }).isDisabled()).toBe(true);
    await page.getByRole('link', { name: 'Versions' }).click();
    await page.getByRole('heading', { name: 'Versions' }).waitFor();
    expect(await page.getByRole('button', { name: /Roll back/ }).count()).toBe(0);
    await screen(page, 'viewer-versions');
  });

  it('shows review errors next to their fields when activation is refused (422)', async () => {
    const name = `Review ${randomUUID().slice(0, 8)}`;
    const created = await v1('post', '/v1/campaigns')
      .send({ name, channel: 'email', content: { sender: 'not an address', subject: 'Hi {{nope}}' } })
      .expect(201);
    const page = await signedIn('admin');
    await page.goto(`/#/campaigns/${created.body.id}/draft`);
    await page.getByTestId('preview-body').waitFor();
    await page.getByText('Does not render:').waitFor();
    await reviewAttempt(page);
    await page.getByRole('alert').filter({ hasText: 'Review found problems' }).waitFor();
    const described = async (label: string) =>
      page
        .locator(
          `#${await page
            .getByLabel(label, { exact: true })
            .getAttribute('aria-describedby')
            .then((ids) => ids!.split(' ').pop())}`,
        )
        .innerText();
    expect(await described('Sender address')).toBe('Sender address must be an email address.');
    expect(await described('Subject')).toMatch(/^Subject template does not render with sample data/);
    expect(await described('Message')).toBe('Message is required for email campaigns.');
    expect(await page.getByLabel('Message', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await screen(page, 'review-errors');
    expect((await v1('get', `/v1/campaigns/${created.body.id}`).expect(200)).body.status).toBe('draft');
  });

  it('says who changed what when the draft was saved behind the page’s back (412)', async () => {
    const name = `Conflict ${randomUUID().slice(0, 8)}`;
    const id = await liveWithDraft(name);
    const page = await signedIn('editor');
    await page.goto(`/#/campaigns/${id}/draft`);
    await page.getByRole('heading', { name: 'Draft (based on v1)' }).waitFor();
    await page.getByLabel('Subject', { exact: true }).fill('Mine, {{firstName}}');

    // Someone else (the admin key) edits the message body meanwhile.
    await v1('patch', `/v1/campaigns/${id}/draft`)
      .set('If-Match', '*')
      .send({ content: { ...EMAIL, body: 'Theirs.' } })
      .expect(200);

    await page.getByRole('button', { name: 'Save draft' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Someone else saved this draft first.' });
    await conflict.waitFor();
    expect(await conflict.innerText()).toContain(`${api.names.admin} changed Message`);
    await screen(page, 'draft-conflict');

    // Saving mine over theirs writes the whole form as the page shows it.
    await conflict.getByRole('button', { name: 'Save mine over theirs' }).click();
    await page.getByText('Draft saved (revision 3).').waitFor();
    const draft = (await v1('get', `/v1/campaigns/${id}/draft`).expect(200)).body;
    expect(draft.content).toMatchObject({ subject: 'Mine, {{firstName}}', body: EMAIL.body });
  });
});
