/**
 * The real Temporal server on PostgreSQL (SQL persistence and SQL visibility), plus its Web UI
 * server: what `npm run start:cluster` and the cluster test profile run instead of the CLI dev
 * server. Every step is idempotent, so a restart on the same data directory and database reuses
 * them: the two databases and their schema (created, then upgraded to the module's latest version),
 * the `default` namespace and our search attributes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { Client as PgClient } from 'pg';
import { SetupError, say } from './common';
import { freePort } from './postgres';
import { resolveClusterBinaries, type ClusterBinaries } from './temporal-cluster-build';
import { DATABASES, lowPort, writeServerConfig, writeUiConfig } from './temporal-cluster-config';
import { registerSearchAttributes } from './temporal-server';

export interface ClusterOptions {
  /** PostgreSQL that holds Temporal's two databases (the user must be allowed to create them). */
  databaseUrl: string;
  /** Where the generated configuration and the server's logs go. */
  dir: string;
  /** Frontend gRPC port; a free one when omitted. */
  frontendPort?: number;
  /** Web UI port; no UI when omitted. */
  uiPort?: number;
  namespace?: string;
}

export interface TemporalCluster {
  /** The frontend, host:port. */
  address: string;
  namespace: string;
  uiUrl?: string;
  /** The server's Prometheus metrics. */
  metricsUrl: string;
  /** The server's log file. */
  logFile: string;
  stop(): Promise<void>;
}

/** How long closed workflow histories stay (the namespace's retention), as the Helm chart's default. */
const RETENTION = '3 days';

export async function startTemporalCluster(options: ClusterOptions): Promise<TemporalCluster> {
  const binaries = await resolveClusterBinaries();
  const namespace = options.namespace ?? 'default';
  mkdirSync(path.join(options.dir, 'config'), { recursive: true });
  await prepareDatabases(binaries, options.databaseUrl);
  const ports = {
    frontend: options.frontendPort ?? (await freePort()),
    frontendHttp: await freePort(),
    history: await freePort(),
    matching: await freePort(),
    worker: await freePort(),
    metrics: await freePort(),
    // Temporal stores membership ports in a smallint column: they must be below 32768, where the
    // kernel's ephemeral ports (what freePort() gets) never are.
    membership: [await lowPort(), await lowPort(), await lowPort(), await lowPort()],
  };
  writeServerConfig(options.dir, options.databaseUrl, ports);
  const logFile = path.join(options.dir, 'temporal-server.log');
  const server = spawnLogged(
    binaries.server,
    ['--root', options.dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'],
    logFile,
  );
  const address = `127.0.0.1:${ports.frontend}`;
  const children = [server];
  try {
    await whenServing(address, namespace, server, logFile);
    let uiUrl: string | undefined;
    if (options.uiPort !== undefined) {
      children.push(startUi(binaries, options.dir, address, namespace, options.uiPort));
      uiUrl = `http://localhost:${options.uiPort}`;
      const ui = uiUrl;
      await retry(Date.now() + 30_000, () => fetch(ui)).catch(() =>
        say(
          `The Temporal Web UI is not answering on ${ui} yet; see ${path.join(options.dir, 'temporal-ui.log')}`,
        ),
      );
    }
    return {
      address,
      namespace,
      uiUrl,
      metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
      logFile,
      stop: () => stopAll(children),
    };
  } catch (error) {
    await stopAll(children);
    throw error;
  }
}

/** Creates Temporal's two databases when missing, then sets up or upgrades their schema. */
async function prepareDatabases(binaries: ClusterBinaries, databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const admin = new PgClient({ connectionString: databaseUrl });
  await admin.connect();
  try {
    for (const [kind, name] of Object.entries(DATABASES)) {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
      const db = new PgClient({ connectionString: withDatabase(databaseUrl, name) });
      await db.connect();
      const versioned = await db
        .query(`SELECT to_regclass('schema_version') IS NOT NULL AS present`)
        .then((r) => r.rows[0].present as boolean)
        .finally(() => db.end());
      const tool = (...args: string[]) =>
        runQuietly(binaries.sqlTool, [
          '--plugin',
          'postgres12',
          '--ep',
          url.hostname,
          '-p',
          url.port || '5432',
          '-u',
          decodeURIComponent(url.username),
          '--pw',
          decodeURIComponent(url.password),
          '--db',
          name,
          ...args,
        ]);
      const dir = path.join(
        binaries.postgresSchema,
        kind === 'temporal' ? 'temporal' : 'visibility',
        'versioned',
      );
      if (!versioned) await tool('setup-schema', '-v', '0.0');
      await tool('update-schema', '-d', dir);
    }
  } catch (error) {
    throw new SetupError(`Setting up Temporal's schema on PostgreSQL failed (${(error as Error).message}).`);
  } finally {
    await admin.end();
  }
}

function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Waits for the frontend, then registers the namespace and search attributes (idempotently). */
async function whenServing(
  address: string,
  namespace: string,
  server: ChildProcess,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + 90_000;
  const fail = (why: string) =>
    new SetupError(
      `The Temporal server did not start (${why}); its log ${logFile} ends with: ${tail(logFile)}`,
    );
  let connection: Connection | undefined;
  while (!connection) {
    if (server.exitCode !== null) throw fail(`it exited with code ${server.exitCode}`);
    if (Date.now() > deadline) throw fail('no answer on its frontend within 90 s');
    connection = await Connection.connect({ address, connectTimeout: 1_000 }).catch(() => undefined);
    if (!connection) await sleep(250);
  }
  try {
    await retry(deadline, () => connection.workflowService.getSystemInfo({}));
    const known = await connection.workflowService.describeNamespace({ namespace }).then(
      () => true,
      () => false,
    );
    if (!known) {
      say(`Registering the Temporal namespace ${namespace}`);
      await connection.workflowService
        .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION) })
        .catch((error: { code?: number }) => {
          if (error.code !== 6) throw error; // 6: ALREADY_EXISTS, another process registered it first
        });
    }
    // The services know a new namespace once their namespace cache has it (refreshed every few seconds).
    await retry(deadline, () => connection.workflowService.countWorkflowExecutions({ namespace, query: '' }));
    await retry(deadline, () => registerSearchAttributes(connection, namespace));
  } catch (error) {
    throw fail((error as Error).message);
  } finally {
    await connection.close();
  }
}

function startUi(binaries: ClusterBinaries, dir: string, address: string, namespace: string, port: number) {
  writeUiConfig(path.join(dir, 'ui'), { port, address, namespace });
  return spawnLogged(
    binaries.uiServer,
    ['--root', dir, '--config', 'ui', '--env', 'development', 'start'],
    path.join(dir, 'temporal-ui.log'),
  );
}

/** Children that die with us: a crashed or killed parent must not leave a server holding the ports. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

function spawnLogged(command: string, args: string[], logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', out, out] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.reverse().map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

async function retry<T>(deadline: number, attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last few log lines, each cut to what a person reads (the server logs JSON with stack traces). */
function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .slice(-3)
      .map((line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; error?: string };
          return [entry.msg, entry.error].filter(Boolean).join(': ');
        } catch {
          return line.slice(0, 300);
        }
      })
      .join(' | ');
  } catch {
    return '(no log)';
  }
}

/** Runs a tool, keeping its (debug-level) output unless it fails. */
function runQuietly(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(command, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve();
      const lines = `${stdout}\n${stderr}`.trim().split('\n').slice(-3).join(' | ');
      reject(new Error(`${path.basename(command)} ${args.at(-3)} failed: ${lines.slice(0, 600)}`));
    }),
  );
}
