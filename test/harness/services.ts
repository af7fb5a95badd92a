/**
 * Services of a test's own, which it may restart without disturbing the shared ones that
 * global-setup.ts started for every suite: a Temporal dev server on a fixed port persisting to a
 * SQLite file, and an embedded PostgreSQL on a fixed port and data directory.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { migrate } from '../../prisma/migrate';
import { freePort, startEmbeddedPostgres, type LocalPostgres } from '../../toolchain/postgres';
import { resolveTemporalCli } from '../../toolchain/temporal-cli';
import { CAMPAIGN_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

export interface RestartableService {
  /** `host:port` of the dev server, or the PostgreSQL connection string. */
  address: string;
  /**
   * Stops the service (the dev server is killed, PostgreSQL shut down cleanly), then starts it
   * again on the same port and state.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A scratch directory the `postgres` system user can reach (PostgreSQL runs as it under root). */
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * A Temporal dev server of its own: the Temporal CLI's `server start-dev` on a fixed port, persisting
 * to a SQLite file, so that a restart keeps every workflow, activity and timer. A restart kills the
 * process (SIGKILL: a crash, nothing flushed on the way out) and starts a new one on the same port
 * and file; connections made to `address` reconnect by themselves. Spawned here rather than through
 * the SDK (`startDevServer`), whose child prints its banner on the test's stdout.
 */
export async function startRestartableDevServer(): Promise<RestartableService> {
  const cli = await resolveTemporalCli();
  if (cli.kind !== 'path') throw new Error('the fault suite needs a Temporal CLI binary (npm run toolchain)');
  const dir = scratchDir('campaign-temporal-');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = [
    'server',
    'start-dev',
    ...['--ip', '127.0.0.1', '--port', String(port), '--headless'],
    ...['--db-filename', path.join(dir, 'temporal.db'), '--log-level', 'error'],
    ...CAMPAIGN_SEARCH_ATTRIBUTES.flatMap((key) => [
      '--search-attribute',
      `${key.name}=${CLI_TYPE[key.type]}`,
    ]),
  ];
  let server: ChildProcess | undefined;
  const start = async () => {
    const child = spawn(cli.path, args, { stdio: 'ignore' });
    server = child;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Ready once the frontend answers with our search attributes registered.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const connection = await Connection.connect({ address, connectTimeout: '1s' }).catch(() => undefined);
      const ready = await connection?.operatorService
        .listSearchAttributes({ namespace: 'default' })
        .then((r) => CAMPAIGN_SEARCH_ATTRIBUTES.every((key) => key.name in (r.customAttributes ?? {})))
        .catch(() => false);
      await connection?.close();
      if (ready) return;
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`the dev server on ${address} did not start`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const kill = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    address,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The CLI's spelling of each search attribute type. */
const CLI_TYPE: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/**
 * An embedded PostgreSQL of its own (migrated), on a fixed port and data directory; a restart is a
 * clean shutdown (open connections are terminated) and a start on the same directory and port.
 */
export async function startRestartablePostgres(): Promise<RestartableService> {
  const dir = scratchDir('campaign-pg-fault-');
  const options = { dataDir: path.join(dir, 'data'), port: await freePort(), exitOnSignal: false };
  let pg: LocalPostgres | undefined = await startEmbeddedPostgres(options);
  await migrate(pg.url);
  return {
    address: pg.url,
    async restart() {
      await pg?.stop();
      pg = undefined;
      pg = await startEmbeddedPostgres(options);
    },
    async stop() {
      await pg?.stop();
      pg = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
