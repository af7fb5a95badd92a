/**
 * The consent migration (20261207004000_consent) on existing data: every profile that was not
 * subscribed gets the status and the ledger row its latest unsubscribe, hard bounce or complaint says,
 * or an unsubscribed row by the migration when nothing says why; subscribed profiles get none.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { MIGRATIONS_DIR, migrate } from '../prisma/migrate';
import { testDatabaseUrl } from './harness/stack';

const CONSENT = '20261207004000_consent';

describe('the consent migration', () => {
  const database = `consent_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'consent-migration-'));
  let admin: Client;
  let db: Client;
  let url: string;

  beforeAll(async () => {
    admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const u = new URL(testDatabaseUrl());
    u.pathname = `/${database}`;
    url = u.toString();
    db = new Client({ connectionString: url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each profile that is not subscribed the status and ledger row its history says', async () => {
    // The schema before it, with data.
    cpSync(MIGRATIONS_DIR, dir, { recursive: true, filter: (src) => !src.includes(CONSENT) });
    await migrate(url, dir);
    const campaign = randomUUID();
    await db.query(
      `INSERT INTO profiles (id, email, subscribed, updated_at) VALUES
         ('keeps', 'k@example.com', true, now()), ('clicked', 'c@example.com', false, now()),
         ('bounced', 'b@example.com', false, now()), ('complained', 'p@example.com', false, now()),
         ('untold', 'u@example.com', false, '2026-01-02T03:04:05Z')`,
    );
    await db.query(
      `INSERT INTO tracking_events (campaign_id, version, source_kind, source_id, recipient, kind, reason, at)
       VALUES ($1, 1, 'run', '2', 'clicked', 'unsubscribe', NULL, '2026-03-01T00:00:00Z'),
              ($1, 1, 'run', '2', 'bounced', 'bounce', 'soft', '2026-03-01T00:00:00Z'),
              ($1, 1, 'run', '3', 'bounced', 'bounce', 'hard', '2026-03-02T00:00:00Z'),
              ($1, 1, 'run', '3', 'complained', 'unsubscribe', NULL, '2026-03-02T00:00:00Z'),
              ($1, 1, 'run', '4', 'complained', 'complaint', NULL, '2026-03-03T00:00:00Z'),
              ($1, 1, 'run', '4', 'untold', 'bounce', 'soft', '2026-03-03T00:00:00Z'),
              ($1, 1, 'run', '4', 'keeps', 'unsubscribe', NULL, '2026-03-03T00:00:00Z')`,
      [campaign],
    );

    expect(await migrate(url)).toEqual([CONSENT]);

    const { rows: profiles } = await db.query(`SELECT id, subscribed, consent FROM profiles ORDER BY id`);
    expect(profiles).toEqual([
      { id: 'bounced', subscribed: false, consent: 'suppressed' },
      { id: 'clicked', subscribed: false, consent: 'unsubscribed' },
      { id: 'complained', subscribed: false, consent: 'suppressed' },
      { id: 'keeps', subscribed: true, consent: 'subscribed' },
      { id: 'untold', subscribed: false, consent: 'unsubscribed' },
    ]);
    const { rows: changes } = await db.query(
      `SELECT profile_id, status, source, actor, note, at FROM consent_changes ORDER BY profile_id`,
    );
    expect(changes).toEqual([
      {
        profile_id: 'bounced',
        status: 'suppressed',
        source: 'bounce',
        actor: 'migration',
        note: `campaign ${campaign}, run 3`,
        at: new Date('2026-03-02T00:00:00Z'),
      },
      {
        profile_id: 'clicked',
        status: 'unsubscribed',
        source: 'unsubscribe_link',
        actor: 'recipient',
        note: `campaign ${campaign}, run 2`,
        at: new Date('2026-03-01T00:00:00Z'),
      },
      {
        profile_id: 'complained',
        status: 'suppressed',
        source: 'complaint',
        actor: 'migration',
        note: `campaign ${campaign}, run 4`,
        at: new Date('2026-03-03T00:00:00Z'),
      },
      {
        profile_id: 'untold',
        status: 'unsubscribed',
        source: 'migration',
        actor: 'migration',
        note: 'not subscribed before consent was kept as a ledger',
        at: new Date('2026-01-02T03:04:05Z'),
      },
    ]);
  });
});
