/**
 * `npm run fuzz`: starts a throw-away stack (the Temporal dev server on a free port without its UI, an
 * embedded PostgreSQL in a temp folder, the worker and the API on a free port), ensures an admin API
 * key, then runs schemathesis with toolchain/schemathesis.toml (fixed seed and budget) against
 * /openapi.json. Prints only a summary (schemathesis's own output goes to .data/fuzz/schemathesis.log,
 * and its failure sections are printed when the stage fails), exits 1 when a gating check failed, a request errored or timed out,
 * or the run overran its time cap, and stops everything it started on success, failure or Ctrl-C.
 * Extra arguments go to `schemathesis run`, e.g. `npm run fuzz -- --include-path /v1/profiles`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { startApi } from '../api/main';
import { migrate } from '../prisma/migrate';
import { logger, temporalLogger } from '../runtime/logger';
import { describeStartupError } from '../runtime/shutdown';
import { startWorker } from '../worker/main';
import { repoRoot, say } from './common';
import { summarise, type JsonReport, type ReportOnly } from './fuzz-report';
import { startEmbeddedPostgres } from './postgres';
import { resolveSchemathesis } from './schemathesis';
import { startDevServer } from './temporal-server';

const CONFIG_FILE = path.join(repoRoot, 'toolchain', 'schemathesis.toml');
/**
 * Reports of the last run (JSON summary, JUnit XML) and schemathesis's own output
 * (`schemathesis.log`); git-ignored like the rest of `.data/`.
 */
const REPORT_DIR = path.join(repoRoot, '.data', 'fuzz');
/** Wall-clock cap on the schemathesis run; past it the run is stopped and the stage fails. */
const MAX_RUN_SECONDS = Number(process.env.FUZZ_MAX_SECONDS ?? 600);
/**
 * Failures printed but not failing the stage, each with its reason (docs/testing.md, "Fuzzing"). Anything
 * else fails it, in every phase; a failure of these types on another operation too.
 */
const REPORT_ONLY: ReportOnly[] = [
  {
    type: 'RejectedPositiveData', // positive_data_acceptance: a schema-valid request refused with 400
    operations:
      /^GET \/v1\/(campaigns|campaigns\/\{id\}\/(executions|history|messages|runs)|executions\/\{id\}(\/messages)?)$/,
    reason:
      'a `cursor` must be a `nextCursor` this API returned: opaque, like every keyset cursor, so no schema can tell a valid one',
  },
  {
    type: 'RejectedPositiveData',
    operations: /^GET \/v1\/campaigns\/\{id\}\/report\/global$/,
    reason: '`to` must not be before `from`: a rule between two fields, which JSON Schema cannot state',
  },
  {
    type: 'RejectedPositiveData',
    operations: /^(PATCH \/v1\/campaigns\/\{id\}\/draft|POST \/v1\/campaigns\/\{id\}\/activate)$/,
    reason:
      'schemathesis’s coverage phase sends If-Match values outside the stated pattern (one entity-tag or *), e.g. `If-Match: 0`, as schema-valid',
  },
  {
    type: 'EnsureResourceAvailability', // ensure_resource_availability
    reason:
      'follows links schemathesis infers, such as POST /v1/campaigns → GET /v1/campaigns/{id}/live, a 404 by design until activation',
  },
];

/** Temporal SDK logs (the Rust core's included) at `TEMPORAL_LOG_LEVEL`, by default errors only. */
function installQuietTemporalRuntime(): void {
  const level = (process.env.TEMPORAL_LOG_LEVEL ?? 'error').toUpperCase() as 'ERROR';
  Runtime.install({
    logger: temporalLogger(logger.child({ component: 'temporal' }, { level: level.toLowerCase() })),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level, other: level }) } },
    shutdownSignals: [],
  });
}

async function main(): Promise<number> {
  // The service logs JSON lines on stdout; keep them out of the fuzzer's output unless asked.
  logger.level = process.env.LOG_LEVEL ?? 'silent';
  installQuietTemporalRuntime();
  const cleanups: Array<{ what: string; stop: () => Promise<void> }> = [];
  let child: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      for (const { what, stop } of cleanups.reverse()) {
        const t = Date.now();
        await stop().catch((error: Error) => say(`stopping ${what} failed: ${error.message}`));
        if (Date.now() - t > 2000) say(`stopped ${what} (${Math.round((Date.now() - t) / 1000)} s)`);
      }
    })());
  /** Registers a started part; when a stop is already under way, stops it at once. */
  const started = async (what: string, stop: () => Promise<void>) => {
    if (stopping) await stop();
    else cleanups.push({ what, stop });
  };
  // Keep listening after the first signal: a Ctrl-C reaches us twice (from the terminal, and relayed
  // by tsx), and a second one without a listener would kill us before the cleanup finishes.
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    say(`${signal}: stopping the fuzz run and everything it started…`);
    void stopAll().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const schemathesis = await resolveSchemathesis();
    const t0 = Date.now();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'campaign-fuzz-'));
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as `postgres` and must reach its data dir
    await started('data dir', async () => rmSync(dataDir, { recursive: true, force: true }));
    say(`Starting the Temporal dev server, PostgreSQL, the worker and the API (state in ${dataDir})…`);
    const [temporal, db] = await Promise.all([
      startDevServer({}).then(async (server) => {
        await started('Temporal dev server', () => server.teardown());
        return server;
      }),
      startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), exitOnSignal: false }).then(
        async (pg) => {
          await started('PostgreSQL', () => pg.stop());
          return pg;
        },
      ),
    ]);
    await migrate(db.url);
    const adminKey = `fuzz_${randomBytes(24).toString('base64url')}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: db.url,
      PORT: '0',
      ADMIN_API_KEY: adminKey,
      // Secrets of this throw-away stack's own (none is built in).
      TRACKING_KEY: randomBytes(32).toString('base64url'),
      WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
    };
    const worker = await startWorker(env);
    // A clean worker shutdown waits for in-flight (local) activities, which a wedged campaign retries
    // for ever; the worker lives in this process, so past 10 s move on and let the exit end it.
    await started('worker', () =>
      Promise.race([
        worker.stop(),
        new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref()).then(() =>
          say(
            'the worker did not stop within 10 s (activities still retrying); leaving it to the process exit',
          ),
        ),
      ]),
    );
    const api = await startApi(env);
    await started('API', () => api.stop());
    if (stopping) return 130;
    const baseUrl = `http://127.0.0.1:${api.port}`;
    say(`Stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s; API at ${baseUrl}`);

    rmSync(REPORT_DIR, { recursive: true, force: true });
    mkdirSync(REPORT_DIR, { recursive: true });
    const jsonReport = path.join(REPORT_DIR, 'report.json');
    const args = [
      '--config-file',
      CONFIG_FILE,
      'run',
      `${baseUrl}/openapi.json`,
      '--header',
      `Authorization: Bearer ${adminKey}`,
      '--report',
      'json,junit',
      '--report-json-path',
      jsonReport,
      '--report-junit-path',
      path.join(REPORT_DIR, 'junit.xml'),
      '--no-color',
      ...process.argv.slice(2),
    ];
    // schemathesis's progress and its own summary go to the log only (see ./fuzz-report.ts).
    const logFile = path.join(REPORT_DIR, 'schemathesis.log');
    const log = openSync(logFile, 'w');
    writeSync(log, `$ schemathesis ${args.join(' ').replace(adminKey, '<admin key>')}\n`);
    say(`Running schemathesis (its output: ${logFile})…`);
    let timedOut = false;
    const exitCode = await new Promise<number>((resolve, reject) => {
      const proc = spawn(schemathesis, args, { stdio: ['ignore', log, log] });
      child = proc;
      const timer = setTimeout(() => {
        timedOut = true;
        proc.kill('SIGTERM');
      }, MAX_RUN_SECONDS * 1000);
      proc.once('error', reject);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(code ?? (signal ? 128 : 1));
      });
    }).finally(() => closeSync(log));
    if (stopping) return 130;
    if (timedOut) {
      say(
        `schemathesis ran past the ${MAX_RUN_SECONDS} s cap (FUZZ_MAX_SECONDS) and was stopped: the fuzz stage fails.`,
      );
      return 1;
    }
    let report: JsonReport;
    try {
      report = JSON.parse(readFileSync(jsonReport, 'utf8')) as JsonReport;
    } catch (error) {
      say(
        `schemathesis exited ${exitCode} without a readable report (${(error as Error).message}): the fuzz stage fails; its output is in ${logFile}.`,
      );
      return 1;
    }
    return summarise(report, exitCode, { reportOnly: REPORT_ONLY, logFile, reportDir: REPORT_DIR }) ? 0 : 1;
  } catch (error) {
    process.stderr.write(`npm run fuzz: ${describeStartupError(error)}\n`);
    return 1;
  } finally {
    await stopAll();
  }
}

void main().then((code) => process.exit(code));
