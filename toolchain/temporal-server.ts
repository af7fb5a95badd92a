/**
 * Local Temporal servers: the CLI dev server (SQLite, Web UI) for `npm start` and dev-server tests,
 * and the Java time-skipping test server for workflow tests. Both are started through the SDK's
 * TestWorkflowEnvironment, from the binaries that temporal-cli.ts / test-server.ts resolve.
 */
import type { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { connectClient, temporalSettings } from '../runtime/config';
import { CAMPAIGN_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { SetupError, say } from './common';
import { resolveTemporalCli } from './temporal-cli';
import { resolveTestServer } from './test-server';
import { TEMPORAL_CLI_VERSION } from './versions';

export interface DevServerOptions {
  /** Persist to this SQLite file; in-memory when omitted. */
  dbFilename?: string;
  /** Frontend port; a free one when omitted. */
  port?: number;
  /** Web UI port; no UI when omitted. */
  uiPort?: number;
}

export async function startDevServer(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const cli = await resolveTemporalCli();
  const executable =
    cli.kind === 'path'
      ? { type: 'existing-path' as const, path: cli.path }
      : { type: 'cached-download' as const, version: `v${TEMPORAL_CLI_VERSION}` };
  try {
    return await TestWorkflowEnvironment.createLocal({
      server: {
        executable,
        ip: '127.0.0.1',
        port: options.port,
        dbFilename: options.dbFilename,
        ui: options.uiPort !== undefined,
        uiPort: options.uiPort,
        searchAttributes: CAMPAIGN_SEARCH_ATTRIBUTES,
        extraArgs: ['--log-level', 'error'],
      },
    });
  } catch (error) {
    const reason = (error as Error).message;
    if (cli.kind === 'sdk-download') {
      throw new SetupError(
        `No Temporal CLI here and the SDK could not download one (${reason}); install Go so our scripts build it from the Go module proxy, or set TEMPORAL_CLI_PATH to a temporal binary.`,
      );
    }
    throw new SetupError(
      `The Temporal dev server (${cli.path}) did not start (${reason}); check that its ports are free and that the binary runs.`,
    );
  }
}

export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const server = await resolveTestServer();
  const executable =
    server.kind === 'path'
      ? { type: 'existing-path' as const, path: server.path }
      : { type: 'cached-download' as const };
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
  } catch (error) {
    throw new SetupError(
      server.kind === 'sdk-download'
        ? `No time-skipping test server here and the SDK could not download one (${(error as Error).message}); install Java and Maven so our scripts fetch it from Maven Central, or set TEMPORAL_TEST_SERVER_PATH.`
        : `The time-skipping test server (${server.path}) did not start (${(error as Error).message}); check that Java runs.`,
    );
  }
  // The Java test server takes no search-attribute flag: register through the operator service.
  await registerSearchAttributes(env.connection, 'default');
  return env;
}

/** Registers our custom search attributes on a namespace; already-registered ones are fine. */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService
    .listSearchAttributes({ namespace })
    .then((r) => r.customAttributes ?? {})
    .catch(() => ({}) as Record<string, unknown>);
  const missing = CAMPAIGN_SEARCH_ATTRIBUTES.filter((key) => !(key.name in existing));
  if (missing.length === 0) return;
  say(`Registering search attributes ${missing.map((k) => k.name).join(', ')} on namespace ${namespace}`);
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((key) => [
        key.name,
        temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`],
      ]),
    ),
  });
}

/**
 * Registers our search attributes on the cluster at TEMPORAL_ADDRESS (`npm start` and `npm run
 * start:cluster` pointed at one). A refusal (no operator rights, Temporal Cloud) goes to `onRefused`
 * when given, else throws; an unreachable cluster always throws.
 */
export async function registerOnConfiguredCluster(onRefused?: (error: Error) => void): Promise<void> {
  const settings = temporalSettings();
  const connection = await connectClient(settings);
  try {
    await registerSearchAttributes(connection, settings.namespace).catch((error: Error) => {
      if (!onRefused) throw error;
      onRefused(error);
    });
  } finally {
    await connection.close();
  }
}
