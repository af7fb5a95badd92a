/**
 * `npm run build`: the service compiled for production. `tsc -p tsconfig.build.json` emits the
 * JavaScript into `dist/` (git-ignored), the files the code reads beside itself are copied next to it
 * (`prisma/migrations`, the console bundle), and the workflow code is bundled once into
 * `dist/workflow-bundle.js` (`WORKFLOW_BUNDLE`). Workers and API processes then run with plain
 * `node dist/worker/main.js` / `node dist/api/main.js`. `ensureBuilt()` builds only when `dist/` is
 * missing or older than a source file, under a lock so that two callers never build at once.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, say, SetupError } from './common';
import { writeWorkflowBundle } from './workflow-bundle';

export const DIST = path.join(repoRoot, 'dist');
/** What `npm run build` leaves, for the cluster profile and a production image. */
export const BUILT = {
  worker: path.join(DIST, 'worker', 'main.js'),
  api: path.join(DIST, 'api', 'main.js'),
  workflowBundle: path.join(DIST, 'workflow-bundle.js'),
};
/** Written last: a build without it is unfinished. */
const STAMP = path.join(DIST, '.built');
const LOCK = path.join(repoRoot, '.data', 'build.lock');
/** A lock older than this was left by a build that died. */
const LOCK_STALE_MS = 10 * 60_000;

/** Folders and files that are not compiled into `dist/` (tsconfig.build.json excludes them too). */
const NOT_SOURCE = new Set(['node_modules', '.git', '.data', 'dist', 'test', 'toolchain', 'coverage']);

/** The newest modification time of the files under `dir` that `include` accepts. */
function newest(dir: string, include: (name: string) => boolean): number {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!NOT_SOURCE.has(entry.name) && full !== path.join(repoRoot, 'console')) {
        time = Math.max(time, newest(full, include));
      }
    } else if (include(entry.name)) {
      time = Math.max(time, statSync(full).mtimeMs);
    }
  }
  return time;
}

/** The newest input of a build: sources, migrations, configuration, the console bundle. */
function newestInput(): number {
  const consoleDist = path.join(repoRoot, 'console', 'dist');
  return Math.max(
    newest(repoRoot, (name) => /\.(ts|sql|json)$/.test(name)),
    existsSync(consoleDist) ? newest(consoleDist, () => true) : 0,
  );
}

/** True when `dist/` holds a finished build newer than every input. */
export function buildIsCurrent(): boolean {
  return existsSync(STAMP) && statSync(STAMP).mtimeMs >= newestInput();
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new SetupError(`${path.basename(args[0]!)} failed (exit ${code}).`)),
    );
  });
}

/** Builds `dist/` from scratch. */
export async function build(): Promise<void> {
  const started = Date.now();
  rmSync(DIST, { recursive: true, force: true });
  say('Compiling TypeScript into dist/…');
  await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  cpSync(path.join(repoRoot, 'prisma', 'migrations'), path.join(DIST, 'prisma', 'migrations'), {
    recursive: true,
  });
  const consoleDist = path.join(repoRoot, 'console', 'dist');
  if (existsSync(consoleDist)) cpSync(consoleDist, path.join(DIST, 'console', 'dist'), { recursive: true });
  say('Bundling the workflow code…');
  await writeWorkflowBundle(BUILT.workflowBundle);
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  say(`Built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function takeLock(): boolean {
  try {
    mkdirSync(LOCK);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (Date.now() - statSync(LOCK).mtimeMs > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

/** Runs `fn` holding the build lock, so that two builds never write `dist/` at once. */
async function withBuildLock(fn: () => Promise<void>): Promise<void> {
  mkdirSync(path.dirname(LOCK), { recursive: true });
  while (!takeLock()) await new Promise((resolve) => setTimeout(resolve, 500));
  try {
    await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Builds `dist/` when it is missing or stale; waits for a build another process has under way. */
export function ensureBuilt(): Promise<void> {
  return withBuildLock(async () => {
    if (!buildIsCurrent()) await build();
  });
}

if (require.main === module) {
  withBuildLock(build).catch((error: Error) => {
    process.stderr.write(`npm run build: ${error.message}\n`);
    process.exit(1);
  });
}
