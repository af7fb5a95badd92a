/**
 * `npm run toolchain`: resolves (building or fetching on first use) the Temporal CLI, the
 * time-skipping test server, the Chromium the console tests drive and the cluster profile's Temporal
 * server binaries, and prints where each comes from. npm start and npm test do this themselves; CI runs it first so the slow first build (and the
 * apt-get install of chromium) shows up as its own step.
 */
import path from 'node:path';
import { resolveChromium } from './chromium';
import { SetupError, say } from './common';
import { resolveClusterBinaries } from './temporal-cluster-build';
import { resolveTemporalCli } from './temporal-cli';
import { resolveTestServer } from './test-server';

async function main(): Promise<void> {
  const cli = await resolveTemporalCli();
  say(`Temporal CLI: ${cli.kind === 'path' ? `${cli.path} (${cli.source})` : 'SDK download'}`);
  const testServer = await resolveTestServer();
  say(
    `Time-skipping test server: ${testServer.kind === 'path' ? `${testServer.path} (${testServer.source})` : 'SDK download'}`,
  );
  say(`Chromium (console tests): ${await resolveChromium()}`);
  const cluster = await resolveClusterBinaries();
  say(`Temporal server, SQL tool and Web UI (cluster profile): ${path.dirname(cluster.server)}`);
}

main().catch((error: Error) => {
  process.stderr.write(`${error instanceof SetupError ? error.message : error.stack}\n`);
  process.exit(1);
});
