import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SetupError, cacheDir, commandWorks, isExecutable, repoRoot, run, say } from './common';
import { TEST_SERVER_VERSION } from './versions';

/** Where the time-skipping test server comes from: a launcher we can run, or the SDK's download. */
export type TestServer = { kind: 'path'; path: string; source: string } | { kind: 'sdk-download' };

const POM = path.join(repoRoot, 'toolchain', 'temporal-test-server', 'pom.xml');

/** The cache is keyed by version and by the pom's content, so a changed dependency list refetches. */
export function cachedLauncherPath(): string {
  const pom = createHash('sha256').update(readFileSync(POM)).digest('hex').slice(0, 8);
  return cacheDir('temporal-test-server', `${TEST_SERVER_VERSION}-${pom}`, 'temporal-test-server');
}

/**
 * Finds Temporal's Java time-skipping test server, in this order: `$TEMPORAL_TEST_SERVER_PATH`; our
 * cache (keyed by version); a fetch of `io.temporal:temporal-test-server` and its dependencies from
 * Maven Central when Maven and Java are installed; else the Temporal SDK's own download.
 *
 * The result is an executable that takes exactly one argument, the port, which is how the SDK
 * starts an `existing-path` test server.
 */
export async function resolveTestServer(): Promise<TestServer> {
  const explicit = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new SetupError(
        `TEMPORAL_TEST_SERVER_PATH is set to ${explicit}, which is not an executable file; point it at a time-skipping test server or unset it.`,
      );
    }
    return { kind: 'path', path: explicit, source: 'TEMPORAL_TEST_SERVER_PATH' };
  }
  const launcher = cachedLauncherPath();
  if (isExecutable(launcher)) return { kind: 'path', path: launcher, source: 'cache' };
  if (commandWorks('mvn', ['--version']) && commandWorks('java', ['-version'])) {
    await fetchWithMaven(launcher);
    return { kind: 'path', path: launcher, source: 'fetched with maven' };
  }
  say('Maven/Java not found: falling back to the Temporal SDK download of the test server (needs internet).');
  return { kind: 'sdk-download' };
}

async function fetchWithMaven(launcher: string): Promise<void> {
  const dir = path.dirname(launcher);
  const staging = `${dir}.partial-${process.pid}`;
  say(
    `Fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} and its dependencies from Maven Central into ${dir} (first run only)…`,
  );
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await run('mvn', [
      '-B',
      '-q',
      '-f',
      POM,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${path.join(staging, 'lib')}`,
    ]);
    // The SDK runs `<launcher> <port>`; TestServer's main reads exactly that argument.
    writeFileSync(
      path.join(staging, 'temporal-test-server'),
      '#!/bin/sh\n' +
        '# Temporal time-skipping test server; usage: temporal-test-server <port>\n' +
        'here=$(dirname "$0")\n' +
        'exec java $TEMPORAL_TEST_SERVER_JAVA_OPTS -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"\n',
    );
    chmodSync(path.join(staging, 'temporal-test-server'), 0o755);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.dirname(dir), { recursive: true });
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw new SetupError(
      `Fetching the Temporal test server with Maven failed (${(error as Error).message}); check that Maven Central is reachable, or set TEMPORAL_TEST_SERVER_PATH.`,
    );
  }
  say(`Temporal test server ready: ${launcher}`);
}
