/**
 * `npm run start:cluster`: the production-shaped profile on one machine. The real Temporal server
 * (built once from the Go module proxy) with its persistence and SQL visibility on PostgreSQL, its Web
 * UI, then CLUSTER_WORKERS worker processes (default 2) and CLUSTER_APIS API processes (default 2)
 * sharing PORT. State persists under .data/cluster/, with the secrets generated on the first start
 * (toolchain/secrets.ts). Workers and API processes run the compiled service with plain node
 * (`npm run build`'s dist/, built first when missing or stale). SIGHUP restarts the workers, then the API
 * processes, one at a time; Ctrl-C stops everything cleanly.
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import { ensureAdminKey } from '../api/auth';
import { createPrisma } from '../prisma/client';
import { migrate } from '../prisma/migrate';
import { ConfigError, deliveryConfig } from '../runtime/config';
import { describeStartupError } from '../runtime/shutdown';
import { BUILT, ensureBuilt } from './build';
import { repoRoot, say } from './common';
import { dataDirSecrets } from './secrets';
import { assertPortFree, resolveDatabase } from './postgres';
import { startProcessCluster } from './process-cluster';
import { startTemporalCluster } from './temporal-cluster';
import { registerOnConfiguredCluster } from './temporal-server';
import { stopInReverseOnSignal } from './shutdown-order';

const TEMPORAL_PORT = 7233;
const UI_PORT = Number(process.env.TEMPORAL_UI_PORT ?? 8233);

function count(name: string, fallback: number): number {
  const raw = process.env[name] ?? String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 16) {
    throw new ConfigError(`${name} must be a whole number from 1 to 16, got "${raw}".`);
  }
  return value;
}

async function main(): Promise<void> {
  const started = Date.now();
  const dataDir = path.resolve(process.env.DATA_DIR ?? path.join(repoRoot, '.data', 'cluster'));
  mkdirSync(dataDir, { recursive: true });
  const { add, stopAll } = stopInReverseOnSignal();

  try {
    const workers = count('CLUSTER_WORKERS', 2);
    const apis = count('CLUSTER_APIS', 2);
    const port = Number(process.env.PORT ?? 3000);
    // TRACKING_KEY and WEBHOOK_SECRET: generated once into .data/cluster/ (none under NODE_ENV=production).
    const secrets = dataDirSecrets(dataDir, process.env);
    deliveryConfig(secrets); // refuses a missing secret before anything starts
    await assertPortFree(port, 'the API', 'PORT');
    say(process.env.DATABASE_URL ? 'Connecting to DATABASE_URL…' : 'Starting PostgreSQL…');
    const db = await resolveDatabase(path.join(dataDir, 'postgres'), false);
    add('PostgreSQL', () => db.stop());
    const env: NodeJS.ProcessEnv = { ...secrets, DATABASE_URL: db.url, PORT: String(port) };
    let uiUrl = 'your Temporal cluster’s UI';
    if (process.env.TEMPORAL_ADDRESS) {
      await registerOnConfiguredCluster();
    } else {
      await assertPortFree(TEMPORAL_PORT, 'the Temporal frontend', 'TEMPORAL_ADDRESS');
      await assertPortFree(UI_PORT, 'the Temporal Web UI', 'TEMPORAL_UI_PORT');
      say('Starting the Temporal server on PostgreSQL…');
      const temporal = await startTemporalCluster({
        databaseUrl: db.url,
        dir: path.join(dataDir, 'temporal'),
        frontendPort: TEMPORAL_PORT,
        uiPort: UI_PORT,
      });
      add('Temporal server', () => temporal.stop());
      env.TEMPORAL_ADDRESS = temporal.address;
      uiUrl = `${temporal.uiUrl}   (server metrics: ${temporal.metricsUrl})`;
    }
    const applied = await migrate(db.url);
    if (applied.length) say(`Applied migrations: ${applied.join(', ')}`);
    const createdKey = await adminKey(db.url);
    // The compiled service and its workflow bundle (npm run build), built now if missing or stale:
    // each worker process (and each restart) runs plain node and starts without bundling.
    await ensureBuilt();
    env.WORKFLOW_BUNDLE = BUILT.workflowBundle;
    say(`Starting ${workers} workers and ${apis} API processes…`);
    const processes = await startProcessCluster({ workers, apis, env });
    add('workers and API processes', () => processes.stop());
    const metricsPort = Number(process.env.CLUSTER_METRICS_PORT ?? 9100);
    const metrics = await serveMetrics(metricsPort, () => processes.apiMetrics());
    add('metrics', () => new Promise((resolve) => metrics.close(() => resolve())));
    process.on('SIGHUP', () => {
      say('SIGHUP: rolling restart of the workers, then the API processes…');
      void processes
        .rollingRestart('worker')
        .then(() => processes.rollingRestart('api'))
        .then(() => say('rolling restart done'))
        .catch((error: Error) => say(`rolling restart failed: ${error.message}`));
    });
    const pids = (role: string) =>
      processes
        .members()
        .filter((m) => m.role === role)
        .map((m) => m.pid)
        .join(', ');
    process.stderr.write(
      [
        '',
        `campaign-orchestrator (cluster profile) is up (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        `  API          http://localhost:${port}   (${apis} processes: ${pids('api')})`,
        `  API metrics  http://localhost:${metricsPort}/metrics   (summed over the API processes)`,
        `  Workers      ${workers} processes: ${pids('worker')}`,
        `  Temporal UI  ${uiUrl}`,
        `  Temporal     ${env.TEMPORAL_ADDRESS}   (npm run temporal -- workflow list)`,
        `  PostgreSQL   ${db.url}`,
        createdKey
          ? `  Auth         Authorization: Bearer ${createdKey}   (created now, shown only this once)`
          : '  Auth         Authorization: Bearer <an API key> (ADMIN_API_KEY, or one created with POST /v1/api-keys)',
        `  Data         ${dataDir}`,
        `Rolling restart: kill -HUP ${process.pid}. Press Ctrl-C to stop.`,
        '',
      ].join('\n'),
    );
  } catch (error) {
    await stopAll();
    process.stderr.write(`npm run start:cluster: ${describeStartupError(error)}\n`);
    process.exit(1);
  }
}

/** Serves the API processes' summed metrics at /metrics (each process's own /metrics is one process). */
async function serveMetrics(port: number, metrics: () => Promise<string>): Promise<http.Server> {
  await assertPortFree(port, 'the API metrics', 'CLUSTER_METRICS_PORT');
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    metrics().then(
      (text) => res.writeHead(200, { 'content-type': AggregatorRegistry.PROMETHEUS_CONTENT_TYPE }).end(text),
      (error: Error) => res.writeHead(503).end(error.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return server;
}

/** The first admin key, created once here rather than raced for by every API process. */
async function adminKey(databaseUrl: string): Promise<string | undefined> {
  const prisma = createPrisma(databaseUrl);
  try {
    return await ensureAdminKey(prisma, process.env.ADMIN_API_KEY);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  } finally {
    await prisma.$disconnect();
  }
}

void main();
