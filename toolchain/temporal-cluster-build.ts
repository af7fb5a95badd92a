/**
 * The production-shaped profile's binaries: the real Temporal server, its SQL schema tool and the
 * Web UI server, built once from the Go module proxy (toolchain/temporal-cluster/go.mod pins them)
 * and cached outside the repository like the CLI.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SetupError, cacheDir, commandWorks, isExecutable, repoRoot, run, say } from './common';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION } from './versions';

const MODULE_DIR = path.join(repoRoot, 'toolchain', 'temporal-cluster');

/** What `go build` makes, by the file name we cache it under. */
const PACKAGES = {
  'temporal-server': 'go.temporal.io/server/cmd/server',
  'temporal-sql-tool': 'go.temporal.io/server/cmd/tools/sql',
  'temporal-ui-server': 'github.com/temporalio/ui-server/v2/cmd/server',
} as const;

export interface ClusterBinaries {
  server: string;
  sqlTool: string;
  uiServer: string;
  /** The server module's `schema/postgresql/v12` (versioned SQL for both databases), copied beside the binaries. */
  postgresSchema: string;
}

function binaryPath(name: keyof typeof PACKAGES): string {
  return cacheDir('temporal-server', `${TEMPORAL_SERVER_VERSION}-ui${TEMPORAL_UI_SERVER_VERSION}`, name);
}

/** Builds (first use only) and returns the binaries and the schema directory. */
export async function resolveClusterBinaries(): Promise<ClusterBinaries> {
  const names = Object.keys(PACKAGES) as (keyof typeof PACKAGES)[];
  const missing = names.filter((name) => !isExecutable(binaryPath(name)));
  const postgresSchema = path.join(
    path.dirname(binaryPath('temporal-server')),
    'schema',
    'postgresql',
    'v12',
  );
  if (missing.length > 0) {
    if (!commandWorks('go', ['version'])) {
      throw new SetupError(
        'The cluster profile needs Go to build the Temporal server from the Go module proxy; install Go.',
      );
    }
    const started = Date.now();
    say(`Building ${missing.join(', ')} from the Go module proxy (first run only; a few minutes)…`);
    for (const name of missing) await build(name);
    say(`Temporal server binaries ready in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  // The schema travels with the binaries, so later starts need neither Go nor its module cache.
  if (!existsSync(postgresSchema)) {
    cpSync(path.join(moduleDir('go.temporal.io/server'), 'schema', 'postgresql', 'v12'), postgresSchema, {
      recursive: true,
    });
  }
  return {
    server: binaryPath('temporal-server'),
    sqlTool: binaryPath('temporal-sql-tool'),
    uiServer: binaryPath('temporal-ui-server'),
    postgresSchema,
  };
}

async function build(name: keyof typeof PACKAGES): Promise<void> {
  const target = binaryPath(name);
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.partial-${process.pid}`;
  try {
    await run('go', ['build', '-o', tmp, PACKAGES[name]], { cwd: MODULE_DIR });
    renameSync(tmp, target);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw new SetupError(
      `Building ${name} with Go failed (${(error as Error).message}); check that the Go module proxy is reachable.`,
    );
  }
}

/** Where Go keeps a module of our pinned set (downloading it when absent). */
function moduleDir(module: string): string {
  const result = spawnSync('go', ['list', '-m', '-f', '{{.Dir}}', module], {
    cwd: MODULE_DIR,
    encoding: 'utf8',
  });
  const dir = result.stdout.trim();
  if (result.status !== 0 || !dir) {
    throw new SetupError(
      `Could not locate the Go module ${module} (${result.stderr.trim()}); check Go's module proxy.`,
    );
  }
  return dir;
}
