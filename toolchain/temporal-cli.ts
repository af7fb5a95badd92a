import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SetupError, cacheDir, commandWorks, findOnPath, isExecutable, repoRoot, run, say } from './common';
import { TEMPORAL_CLI_MODULE, TEMPORAL_CLI_VERSION } from './versions';

/** Where the Temporal CLI comes from: a binary we can run, or the SDK's own download. */
export type TemporalCli = { kind: 'path'; path: string; source: string } | { kind: 'sdk-download' };

export function cachedCliPath(): string {
  return cacheDir('temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

/**
 * Finds the Temporal CLI (dev server + Web UI), in this order: `$TEMPORAL_CLI_PATH`; `temporal` on
 * PATH; our cache (keyed by version); a build from the Go module proxy when Go is installed; else
 * the Temporal SDK's own download (needs internet).
 */
export async function resolveTemporalCli(): Promise<TemporalCli> {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new SetupError(
        `TEMPORAL_CLI_PATH is set to ${explicit}, which is not an executable file; point it at a Temporal CLI binary or unset it.`,
      );
    }
    return { kind: 'path', path: explicit, source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = findOnPath('temporal');
  if (onPath) return { kind: 'path', path: onPath, source: 'PATH' };
  const cached = cachedCliPath();
  if (isExecutable(cached)) return { kind: 'path', path: cached, source: 'cache' };
  if (commandWorks('go', ['version'])) {
    await buildWithGo(cached);
    return { kind: 'path', path: cached, source: 'built with go' };
  }
  say('Go is not installed: falling back to the Temporal SDK download of the dev server (needs internet).');
  return { kind: 'sdk-download' };
}

/** Like resolveTemporalCli, but a CLI binary is required (e.g. for `npm run temporal`). */
export async function requireTemporalCliBinary(): Promise<string> {
  const cli = await resolveTemporalCli();
  if (cli.kind === 'path') return cli.path;
  throw new SetupError(
    'No Temporal CLI found: install Go (to build it from the Go module proxy) or set TEMPORAL_CLI_PATH to a temporal binary.',
  );
}

async function buildWithGo(target: string): Promise<void> {
  const started = Date.now();
  say(
    `Building the Temporal CLI v${TEMPORAL_CLI_VERSION} from the Go module proxy into ${path.dirname(target)} ` +
      '(first run only; this takes a few minutes)…',
  );
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.partial-${process.pid}`;
  const heartbeat = setInterval(
    () => say(`…still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s)`),
    20_000,
  );
  try {
    // toolchain/temporal-cli/go.mod + go.sum pin the CLI and every dependency.
    await run('go', ['build', '-o', tmp, TEMPORAL_CLI_MODULE], {
      cwd: path.join(repoRoot, 'toolchain', 'temporal-cli'),
    });
    renameSync(tmp, target);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw new SetupError(
      `Building the Temporal CLI with Go failed (${(error as Error).message}); check that the Go module proxy is reachable, or set TEMPORAL_CLI_PATH to a temporal binary.`,
    );
  } finally {
    clearInterval(heartbeat);
  }
  say(`Temporal CLI ready in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
}
