/**
 * The browser the console tests drive: Debian's `chromium` (Playwright's own browser downloads are not
 * reachable here). Found on PATH or as CHROMIUM_PATH; when missing and running as root (as CI does),
 * installed with apt-get.
 */
import { SetupError, findOnPath, isExecutable, run, say } from './common';

const NAMES = ['chromium', 'chromium-browser'];

function find(): string | undefined {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) {
    if (!isExecutable(explicit)) throw new SetupError(`CHROMIUM_PATH=${explicit} is not an executable file.`);
    return explicit;
  }
  for (const name of NAMES) {
    const found = findOnPath(name);
    if (found) return found;
  }
  return undefined;
}

/** The path of a Chromium executable, installing Debian's package first when needed. */
export async function resolveChromium(): Promise<string> {
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0 || !findOnPath('apt-get')) {
    throw new SetupError(
      'Chromium is missing: install it (e.g. `sudo apt-get install -y chromium`) or set CHROMIUM_PATH.',
    );
  }
  say('installing chromium with apt-get (first use)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = { env, stdio: ['ignore', 'ignore', 'inherit'] as const };
  await run('apt-get', ['update', '-qq'], { ...quiet, stdio: [...quiet.stdio] });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], {
    ...quiet,
    stdio: [...quiet.stdio],
  });
  const installed = find();
  if (!installed) throw new SetupError('apt-get installed chromium but no chromium executable is on PATH.');
  return installed;
}
