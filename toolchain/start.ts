/**
 * `npm start`: the whole service on one machine. Starts (or connects to, with TEMPORAL_ADDRESS) the
 * Temporal dev server with its Web UI, starts (or connects to, with DATABASE_URL) PostgreSQL,
 * migrates, then runs the worker and the API in this process. State persists under .data/, with the
 * secrets generated on the first start (toolchain/secrets.ts).
 * Ctrl-C stops everything cleanly.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startApi } from '../api/main';
import { migrate } from '../prisma/migrate';
import { deliveryConfig } from '../runtime/config';
import { startWorker } from '../worker/main';
import { installTemporalRuntime } from '../runtime/logger';
import { describeStartupError } from '../runtime/shutdown';
import { repoRoot, say } from './common';
import { dataDirSecrets } from './secrets';
import { assertPortFree, resolveDatabase } from './postgres';
import { registerOnConfiguredCluster, startDevServer } from './temporal-server';
import { stopInReverseOnSignal } from './shutdown-order';

const TEMPORAL_PORT = 7233;
const UI_PORT = Number(process.env.TEMPORAL_UI_PORT ?? 8233);

async function main(): Promise<void> {
  const started = Date.now();
  installTemporalRuntime();
  const dataDir = path.resolve(process.env.DATA_DIR ?? path.join(repoRoot, '.data'));
  mkdirSync(dataDir, { recursive: true });
  const port = Number(process.env.PORT ?? 3000);
  const { add, stopAll, onSignal } = stopInReverseOnSignal({ verbose: true });

  try {
    // TRACKING_KEY and WEBHOOK_SECRET: generated once into .data/ (none under NODE_ENV=production).
    const env: NodeJS.ProcessEnv = { ...dataDirSecrets(dataDir, process.env), PORT: String(port) };
    deliveryConfig(env); // refuses a missing secret before anything starts
    if (Number.isInteger(port) && port > 0) await assertPortFree(port, 'the API', 'PORT');
    let uiUrl = 'your Temporal cluster’s UI';
    if (process.env.TEMPORAL_ADDRESS) {
      await registerOnConfiguredCluster((error) =>
        say(`could not register search attributes (${error.message}); register them on the cluster`),
      );
    } else {
      await assertPortFree(TEMPORAL_PORT, 'the Temporal frontend', 'TEMPORAL_ADDRESS');
      await assertPortFree(UI_PORT, 'the Temporal Web UI', 'TEMPORAL_UI_PORT');
      say('Starting the Temporal dev server…');
      const temporal = await startDevServer({
        dbFilename: path.join(dataDir, 'temporal.db'),
        port: TEMPORAL_PORT,
        uiPort: UI_PORT,
      });
      add('Temporal dev server', () => temporal.teardown());
      env.TEMPORAL_ADDRESS = `127.0.0.1:${TEMPORAL_PORT}`;
      uiUrl = `http://localhost:${UI_PORT}`;
    }
    say(process.env.DATABASE_URL ? 'Connecting to DATABASE_URL…' : 'Starting PostgreSQL…');
    const db = await resolveDatabase(path.join(dataDir, 'postgres'), false);
    add('PostgreSQL', () => db.stop());
    env.DATABASE_URL = db.url;
    const applied = await migrate(db.url);
    if (applied.length) say(`Applied migrations: ${applied.join(', ')}`);
    const worker = await startWorker(env);
    add('worker', () => worker.stop());
    const api = await startApi(env);
    add('API', () => api.stop());
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(
      [
        '',
        `campaign-orchestrator is up (${seconds} s)`,
        `  API          http://localhost:${api.port}   (try: curl http://localhost:${api.port}/healthz)`,
        `  Temporal UI  ${uiUrl}`,
        `  Temporal     ${env.TEMPORAL_ADDRESS}   (npm run temporal -- workflow list)`,
        `  PostgreSQL   ${db.url}`,
        `  API docs     http://localhost:${api.port}/docs   (OpenAPI: /openapi.json)`,
        api.createdKey
          ? '  Auth         Authorization: Bearer <the admin key printed above, shown only once>'
          : '  Auth         Authorization: Bearer <an API key> (ADMIN_API_KEY, or one created with POST /v1/api-keys)',
        `  Data         ${dataDir}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    void worker.running.catch((error: Error) => {
      say(`worker failed: ${error.message}`);
      onSignal('worker failure');
    });
  } catch (error) {
    await stopAll(false);
    process.stderr.write(`npm start: ${describeStartupError(error)}\n`);
    process.exit(1);
  }
}

void main();
