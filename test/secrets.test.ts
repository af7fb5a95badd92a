/**
 * No secret defaults to a value written in the code: the worker and the API refuse to start without
 * TRACKING_KEY (and the worker without WEBHOOK_SECRET), naming the variable; `npm start` generates both
 * once and keeps them in its data directory, except under NODE_ENV=production; and an API started the
 * way `npm start` starts it refuses a link signed with the old built-in development key.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startApi } from '../api/main';
import { ConfigError, deliveryConfig, trackingConfig } from '../runtime/config';
import { logger } from '../runtime/logger';
import { signToken } from '../runtime/tracking-tokens';
import { dataDirSecrets } from '../toolchain/secrets';
import { testDatabaseUrl, testTemporalAddress } from './harness/stack';

const OLD_BUILT_IN_KEY = 'campaign-orchestrator-dev-tracking-key';
const ROOT = path.resolve(__dirname, '..');

describe('secrets', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('the config refuses a missing TRACKING_KEY or WEBHOOK_SECRET, naming the variable', () => {
    for (const NODE_ENV of ['production', undefined]) {
      expect(() => trackingConfig({ NODE_ENV })).toThrow(ConfigError);
      expect(() => trackingConfig({ NODE_ENV })).toThrow(/^TRACKING_KEY is not set/);
      expect(() => trackingConfig({ NODE_ENV, TRACKING_KEY: '' })).toThrow(/^TRACKING_KEY is not set/);
      expect(() => deliveryConfig({ NODE_ENV, TRACKING_KEY: 'k'.repeat(16) })).toThrow(
        /^WEBHOOK_SECRET is not set/,
      );
    }
    expect(deliveryConfig({ TRACKING_KEY: 'k'.repeat(16), WEBHOOK_SECRET: 'w'.repeat(16) })).toMatchObject({
      webhookSecret: 'w'.repeat(16),
      tracking: { keys: { current: 'k'.repeat(16) } },
    });
  });

  it('a production start of the worker or the API exits 1 with one sentence naming the variable', () => {
    for (const [file, variable, extra] of [
      ['api/main.ts', 'TRACKING_KEY', {}],
      ['worker/main.ts', 'WEBHOOK_SECRET', { TRACKING_KEY: 'k'.repeat(16) }],
    ] as const) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, NODE_ENV: 'production', ...extra },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect({ status: run.status, stderr: run.stderr.trim() }).toEqual({
        status: 1,
        stderr: expect.stringMatching(new RegExp(`^\\w+: ${variable} is not set[^\\n]*\\.$`)),
      });
    }
  });

  it('npm start and start:cluster under NODE_ENV=production generate nothing and refuse before starting anything', () => {
    for (const file of ['toolchain/start.ts', 'toolchain/start-cluster.ts']) {
      const dir = dataDir();
      const run = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          DATA_DIR: dir,
          PORT: '0',
          // Nothing may be reached: a start that got this far would fail on these instead.
          TEMPORAL_ADDRESS: '127.0.0.1:1',
          DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect({ file, status: run.status, stderr: run.stderr.trim() }).toEqual({
        file,
        status: 1,
        stderr: expect.stringMatching(/^npm (run )?start(:cluster)?: TRACKING_KEY is not set[^\n]*\.$/),
      });
      expect(existsSync(path.join(dir, 'secrets.json'))).toBe(false);
    }
  });

  it('npm start generates the secrets once and keeps them in its data directory (not in production)', () => {
    const dir = dataDir();
    const first = dataDirSecrets(dir, {});
    expect(first.TRACKING_KEY).toMatch(/^[\w-]{32,}$/);
    expect(first.WEBHOOK_SECRET).toMatch(/^[\w-]{32,}$/);
    expect(first.TRACKING_KEY).not.toBe(first.WEBHOOK_SECRET);
    expect(statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(dataDirSecrets(dir, {})).toMatchObject({
      TRACKING_KEY: first.TRACKING_KEY,
      WEBHOOK_SECRET: first.WEBHOOK_SECRET,
    });
    expect(dataDirSecrets(dir, { TRACKING_KEY: 'mine-0123456789abcdef' }).TRACKING_KEY).toBe(
      'mine-0123456789abcdef',
    );
    const production = dataDirSecrets(dataDir(), { NODE_ENV: 'production' });
    expect(production.TRACKING_KEY).toBeUndefined();
    expect(production.WEBHOOK_SECRET).toBeUndefined();
  });

  it('an API started as npm start starts it refuses a link signed with the old built-in key', async () => {
    const env = dataDirSecrets(dataDir(), {
      DATABASE_URL: testDatabaseUrl(),
      TEMPORAL_ADDRESS: testTemporalAddress(),
      PORT: '0',
      ADMIN_API_KEY: randomBytes(24).toString('base64url'),
    });
    logger.level = 'warn'; // quiet on success
    const api = await startApi(env);
    try {
      const click = (current: string) =>
        fetch(
          `http://127.0.0.1:${api.port}/t/c/${signToken(
            { current },
            {
              kind: 'c',
              campaignId: '00000000-0000-4000-8000-000000000000',
              version: 1,
              source: 'run',
              sourceId: '1',
              recipient: 'p',
              link: 0,
              url: 'https://evil.example/phish',
              sentAt: Date.now() - 60_000,
            },
          )}`,
          { redirect: 'manual' },
        );
      const forged = await click(OLD_BUILT_IN_KEY);
      expect(forged.status).toBe(404);
      expect(forged.headers.get('location')).toBeNull();
      // The key the start generated is the one the API verifies with.
      expect((await click(env.TRACKING_KEY!)).status).toBe(302);
    } finally {
      await api.stop();
    }
  });
});
