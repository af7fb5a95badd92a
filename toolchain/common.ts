import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** The repository root (this file lives in `<root>/toolchain`). */
export const repoRoot = path.resolve(__dirname, '..');

/**
 * A misconfiguration or missing prerequisite. Its message is one sentence saying what is wrong and
 * what to do; entry points print it alone (no stack) and exit non-zero.
 */
export class SetupError extends Error {
  override name = 'SetupError';
}

/**
 * Progress lines for humans, on stderr so stdout stays clean for `npm run temporal` output. Silent
 * inside a jest test file (a suite starting services of its own stays quiet on success); jest's
 * global setup runs outside the workers and still says what it does.
 */
export function say(message: string): void {
  if (process.env.JEST_WORKER_ID) return;
  process.stderr.write(`[toolchain] ${message}\n`);
}

/**
 * Where built and fetched tools are kept, outside the repository so a fresh clone reuses them:
 * `$CAMPAIGN_TOOLCHAIN_CACHE`, else `$XDG_CACHE_HOME/campaign-orchestrator`, else
 * `~/.cache/campaign-orchestrator`.
 */
export function cacheDir(...parts: string[]): string {
  const base =
    process.env.CAMPAIGN_TOOLCHAIN_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'campaign-orchestrator');
  return path.join(base, ...parts);
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` on PATH, if any. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Whether `command args…` runs and exits 0 (used to detect go, mvn, java). */
export function commandWorks(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.status === 0;
}

/** Runs a command to completion, streaming its output to our stderr; rejects on a non-zero exit. */
export function run(command: string, args: string[], options: SpawnOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited with ${signal ?? `code ${code}`}`));
    });
  });
}
