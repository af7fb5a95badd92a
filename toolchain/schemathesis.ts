/**
 * schemathesis, the OpenAPI fuzzer behind `npm run fuzz`, in a Python virtualenv of its own that we
 * create and cache under `<cache>/schemathesis/<version>/` (PyPI only; nothing else is downloaded).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SetupError, cacheDir, findOnPath, isExecutable, run, say } from './common';
import { SCHEMATHESIS_VERSION } from './versions';

/** Marks a venv whose `pip install` finished; a venv without it is half-built and is rebuilt. */
const READY_MARKER = '.installed';

function venvDir(): string {
  return cacheDir('schemathesis', SCHEMATHESIS_VERSION);
}

/** The Python that builds the venv: `$PYTHON`, else `python3` on PATH. */
function findPython(): string {
  const python = process.env.PYTHON ?? findOnPath('python3');
  if (!python) {
    throw new SetupError(
      'npm run fuzz needs Python 3.9+ with the venv module (python3 -m venv); install it or set PYTHON to a python3 binary.',
    );
  }
  return python;
}

/**
 * The path of a `schemathesis` executable of the pinned version, installing it from PyPI into a
 * fresh virtualenv on first use (about a minute).
 */
export async function resolveSchemathesis(): Promise<string> {
  const dir = venvDir();
  const executable = path.join(dir, 'bin', 'schemathesis');
  if (existsSync(path.join(dir, READY_MARKER)) && isExecutable(executable)) return executable;
  const python = findPython();
  const started = Date.now();
  say(
    `Installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into a virtualenv in ${dir} (first run only)…`,
  );
  // A virtualenv is not relocatable (its scripts name its own path), so build it in place.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  try {
    await run(python, ['-m', 'venv', dir]);
    await run(path.join(dir, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `schemathesis==${SCHEMATHESIS_VERSION}`,
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new SetupError(
      `Installing schemathesis ${SCHEMATHESIS_VERSION} failed (${(error as Error).message}); check that ${python} has the venv module (python3 -m venv) and that PyPI is reachable.`,
    );
  }
  const version = spawnSync(executable, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0 || !version.stdout.includes(SCHEMATHESIS_VERSION)) {
    rmSync(dir, { recursive: true, force: true });
    throw new SetupError(
      `The schemathesis installed in ${dir} does not run (${(version.stderr || version.stdout).trim()}); delete that folder and retry.`,
    );
  }
  writeFileSync(path.join(dir, READY_MARKER), `${SCHEMATHESIS_VERSION}\n`);
  say(`schemathesis ready in ${Math.round((Date.now() - started) / 1000)} s: ${executable}`);
  return executable;
}
