/**
 * The console's Reports tab in a real browser (Chromium through playwright-core) against the real
 * stack: a campaign sends to an audience, and the tab shows what the report API counts. Scanned with
 * axe-core (no serious or critical violation) and saved as screenshots; waits are Playwright's.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { ApiHarness } from './harness/api';
import { startConsoleSession, type ConsoleSession } from './harness/console';
import { createAudience, sentCount, until } from './harness/campaigns';

const EMAIL = { sender: 'news@shop.example', subject: 'Hello {{firstName}}', body: 'Dear {{firstName}}.' };

describe('web console reports in a real browser', () => {
  let session: ConsoleSession;
  let api: ApiHarness;
  let signedIn: ConsoleSession['signedIn'];
  let screen: ConsoleSession['screen'];

  beforeAll(async () => {
    session = await startConsoleSession('console-reports');
    ({ api, signedIn, screen } = session);
  }, 600_000);

  afterAll(() => session?.stop());

  afterEach(() => {
    // No script error and no CSP refusal on any page a test opened.
    expect(session.pageErrors()).toEqual([]);
  });

  const v1 = (method: 'get' | 'post', path: string) =>
    request(api.app)[method](path).set('Authorization', api.auth.admin);

  it('shows a sent campaign’s reports: headline figures, a chart with its numbers, tables, CSV', async () => {
    const { audienceId } = await createAudience(api.stack.pool, 3);
    const name = `Reported ${randomUUID().slice(0, 8)}`;
    const created = await v1('post', '/v1/campaigns')
      .send({ name, channel: 'email', content: EMAIL, audience: { audienceId } })
      .expect(201);
    const id: string = created.body.id;
    await v1('post', `/v1/campaigns/${id}/activate`).send({}).expect(200);
    // The one-shot run sends to all three, and the report counts what left the outbox.
    const reportedSent = async () =>
      (await v1('get', `/v1/campaigns/${id}/report/live`).expect(200)).body.figures.sent as number;
    await until(
      'the run sent to its audience, and the report counts it',
      async () => {
        const sent = await sentCount(api.stack.pool, id);
        return sent === 3 && (await reportedSent()) === sent;
      },
      60_000,
    );

    const page = await signedIn('viewer');
    await page.goto(`/#/campaigns/${id}`);
    await page
      .getByRole('navigation', { name: 'Campaign sections' })
      .getByRole('link', { name: 'Reports' })
      .click();
    await page.getByRole('heading', { name: 'Reports' }).waitFor();
    const figure = (label: string) =>
      page
        .locator('.figure')
        .filter({ has: page.getByText(label, { exact: true }) })
        .locator('dd');
    await figure('Sent').filter({ hasText: /^3$/ }).waitFor();
    expect(await figure('Targeted').innerText()).toBe('3');
    // The chart is an image named by its caption, and a table holds the same numbers.
    await page.getByRole('img', { name: /^Sent, unique opens and unique clicks per minute/ }).waitFor();
    const numbers = page.getByRole('table', { name: 'The chart’s numbers, per minute' });
    const sentColumn = await numbers.locator('tbody tr td:nth-child(2)').allInnerTexts();
    expect(sentColumn.reduce((sum, n) => sum + Number(n), 0)).toBe(3);
    const byVersion = page.getByRole('region', { name: 'By version' });
    await byVersion.getByRole('rowheader', { name: 'v1' }).waitFor();
    await page
      .getByRole('region', { name: 'By run or execution' })
      .getByRole('rowheader', { name: 'Run #1' })
      .waitFor();
    await screen(page, 'reports-live');

    // Global: all time, per day; the CSV download carries the same figure.
    await page.getByLabel('Global: all time, per day').check();
    await page.getByLabel('From (UTC day)').waitFor();
    await figure('Sent').filter({ hasText: /^3$/ }).waitFor();
    await page.getByRole('table', { name: 'The chart’s numbers, per day' }).waitFor({ state: 'attached' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = await new Promise<string>((resolve, reject) => {
      void download.createReadStream().then((stream) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        stream.on('error', reject);
      }, reject);
    });
    expect(csv.split('\n')).toContain('version,1,,sent,3');
    await screen(page, 'reports-global');
  });

  it('lists the 100 largest runs and one "Others" row when a campaign has more', async () => {
    const created = await v1('post', '/v1/campaigns')
      .send({ name: `Many runs ${randomUUID().slice(0, 8)}`, channel: 'sms', content: { body: 'Hi' } })
      .expect(201);
    const id: string = created.body.id;
    // 120 runs, run r with r messages sent, written with SQL.
    await api.stack.pool.query(
      `INSERT INTO messages (campaign_id, run_number, profile_id, version, status, sent_at)
       SELECT $1, r, 'p' || r || '-' || g, 1, 'sent', now() FROM generate_series(1, 120) r, generate_series(1, r) g`,
      [id],
    );
    const page = await signedIn('viewer');
    await page.goto(`/#/campaigns/${id}/reports`);
    const bySource = page.getByRole('region', { name: 'By run or execution' });
    await bySource.getByRole('rowheader', { name: 'Others (20 smaller runs or executions)' }).waitFor();
    const rows = await bySource.locator('tbody th').allInnerTexts();
    expect(rows).toHaveLength(101);
    expect(rows.slice(0, 2)).toEqual(['Run #21', 'Run #22']);
  });
});
