/**
 * docs/configuration.md lists every environment variable the code reads, and only those (pure: it
 * reads files). The names come from the source: `runtime/config.ts` and every other source folder
 * (the toolchain, the entry points, the test harness), by the ways the code reads a variable:
 * `env.NAME`, `env['NAME']`, a helper called with `(env, 'NAME')`, start-cluster's `count('NAME')`,
 * and `$NAME` in the shell launchers the toolchain writes.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

/** Read by the code but set by the code itself for its own children: not configuration. */
const INTERNAL = new Set([
  'PATH',
  'JEST_WORKER_ID', // set by jest
  'CAMPAIGN_QUIET_KEY', // set by toolchain/process-cluster.ts for its API processes
  'TEST_DATABASE_URL', // set by the global setup for the suites
  'TEST_TEMPORAL_ADDRESS',
  'TEST_WORKFLOW_BUNDLE',
]);

const READS = [
  /\benv\.([A-Z][A-Z0-9_]+)/g,
  /\benv\[\s*'([A-Z][A-Z0-9_]+)'\s*\]/g,
  /\(\s*(?:process\.)?env\s*,\s*'([A-Z][A-Z0-9_]+)'/g,
  /\bcount\(\s*'([A-Z][A-Z0-9_]+)'/g,
  /\$([A-Z][A-Z0-9_]{2,})\b/g,
];

function variablesIn(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const names = new Set<string>();
  for (const re of READS) for (const m of text.matchAll(re)) names.add(m[1]!);
  return names;
}

const SKIP = new Set(['node_modules', '.git', '.data', 'dist', 'generated', 'test']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIP.has(entry.name) ? [] : sourceFiles(full);
    return /\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function documented(): string[] {
  const doc = readFileSync(path.join(root, 'docs', 'configuration.md'), 'utf8');
  return [...doc.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!);
}

const read = new Set<string>();
for (const file of [...sourceFiles(root), ...sourceFiles(path.join(root, 'test', 'harness'))]) {
  for (const name of variablesIn(file)) read.add(name);
}
const configuration = [...read].filter((name) => !INTERNAL.has(name)).sort();

test('every variable runtime/config.ts reads is in docs/configuration.md', () => {
  const fromConfig = [...variablesIn(path.join(root, 'runtime', 'config.ts'))].sort();
  expect(fromConfig.length).toBeGreaterThan(20);
  expect(fromConfig.filter((name) => !documented().includes(name))).toEqual([]);
});

test('docs/configuration.md lists exactly the variables the code reads, once each', () => {
  const names = documented();
  expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  expect([...names].sort()).toEqual(configuration);
});

test('the internal variables are still read (the exception list does not rot)', () => {
  expect([...INTERNAL].filter((name) => !read.has(name))).toEqual([]);
});
