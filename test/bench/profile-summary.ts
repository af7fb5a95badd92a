/**
 * Summarises the CPU profiles `npm run bench:profile` writes (`node --cpu-prof`, one file per
 * thread) for each pass of test/bench/profile.ts: only the samples inside the pass's time window,
 * in ms of CPU per action, by owner (the first frame up the stack that belongs to a known module),
 * by module and by function (self time). Usage: `tsx test/bench/profile-summary.ts [dir]`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../toolchain/common';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface Window {
  pass: string;
  startUs: number;
  endUs: number;
  actions: number;
}

/** Who spends CPU, by module: the first rule that matches a module name wins. */
const OWNERS: Array<[string, RegExp]> = [
  ['workflow code (ours, in the sandbox)', /^sandbox:(workflows|domain)\//],
  ['workflow runtime (SDK in the sandbox)', /^sandbox:|^workflow-bundle|^evalmachine/],
  ['Temporal worker (SDK, core bridge)', /^@temporalio\/(worker|core-bridge)|^rxjs|^worker\/|^activities\//],
  ['Prisma (client, query compiler)', /^@prisma\/|^prisma\/|^wasm:/],
  ['pg driver', /^pg(-protocol|-pool|-types)?$|^postgres-/],
  ['readmodel (ours)', /^readmodel\//],
  [
    'API: Express, middleware, logging',
    /^(express|router|body-parser|raw-body|helmet|pino.*|on-finished|finalhandler|send|statuses|type-is|mime.*|content-type|qs|iconv-lite|depd|http-errors|cookie|vary|accepts|negotiator|encodeurl|escape-html|parseurl|proxy-addr|forwarded|media-typer|express-rate-limit|sonic-boom|fast-redact|thread-stream|on-exit-leak-free)$/,
  ],
  ['API: validation (zod)', /^zod/],
  ['API (ours)', /^api\//],
  [
    'Temporal client (gRPC, protobuf)',
    /^@grpc\/|^protobufjs|^@temporalio\/(client|proto|common)|^long$|^@protobufjs/,
  ],
  ['load generator (fetch, bench)', /^node:internal\/deps\/undici|^test\//],
  ['tsx loader', /^tsx$/],
  ['domain (ours)', /^domain\//],
];

/** The workflow bundle's webpack module markers: [first line (0-based), module path]. */
let bundleModules: Array<[number, string]> = [];

/** A module name: the package under node_modules, a path in the repository, or the node: module. */
function moduleOf(url: string, line = -1): string {
  if (!url) return '';
  if (/workflow-bundle-[0-9a-f]+\.js$/.test(url) && bundleModules.length) {
    let found = 'workflow-bundle';
    for (const [start, name] of bundleModules) if (start <= line) found = name;
    // Our modules as workflows/…, domain/…; the SDK's as its package, all marked as in the sandbox.
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(found);
    return `sandbox:${pkg ? pkg[1] : found.replace(/^\.\//, '')}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:') || url.startsWith('wasm:') || url.startsWith('evalmachine')) return url;
  const file = url.replace(/^file:\/\//, '');
  const bundle = /(workflow-bundle)-[0-9a-f]+\.js$/.exec(file);
  if (bundle) return bundle[1];
  for (const root of [repoRoot, '/work/main']) {
    if (file.startsWith(`${root}/`)) return path.relative(root, file);
  }
  return file;
}

const ownerOf = (module: string) => OWNERS.find(([, re]) => re.test(module))?.[0];
const frameModule = (f: CallFrame) => moduleOf(f.url, f.lineNumber);

function summarise(profile: Profile, thread: string, windows: Window[], out: Map<string, Tally>) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    const w = windows.find((x) => t >= x.startUs && t < x.endUs);
    if (!w) continue;
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000; // ms until the next sample
    const leaf = byId.get(profile.samples[i])!;
    const name = leaf.callFrame.functionName;
    if (name === '(idle)') continue;
    let owner: string | undefined;
    for (let id: number | undefined = leaf.id; id !== undefined && !owner; id = parent.get(id)) {
      owner = ownerOf(frameModule(byId.get(id)!.callFrame));
    }
    const mod = frameModule(leaf.callFrame) || name;
    owner ??= name.startsWith('(') ? `${name} [${thread}]` : `unattributed [${thread}]`;
    const tally = out.get(w.pass) ?? new Tally(w.actions);
    out.set(w.pass, tally);
    tally.add('owner', owner.includes(' [') ? owner : `${owner} [${thread}]`, dt);
    tally.add('module', `${mod} [${thread}]`, dt);
    tally.add('function', `${name || '(anonymous)'} ${mod}:${leaf.callFrame.lineNumber + 1} [${thread}]`, dt);
    tally.total += dt;
  }
}

class Tally {
  total = 0;
  readonly by: Record<string, Map<string, number>> = {
    owner: new Map(),
    module: new Map(),
    function: new Map(),
  };
  constructor(readonly actions: number) {}
  add(kind: string, key: string, ms: number) {
    this.by[kind].set(key, (this.by[kind].get(key) ?? 0) + ms);
  }
  top(kind: string, n: number): string[] {
    return [...this.by[kind]]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => `  ${(ms / this.actions).toFixed(2).padStart(6)} ms  ${k}`);
  }
}

const dir = process.argv[2] ?? path.join(repoRoot, '.data', 'profile');
const windows = JSON.parse(readFileSync(path.join(dir, 'windows.json'), 'utf8')) as Window[];
try {
  const code = readFileSync(path.join(dir, 'workflow-bundle.js'), 'utf8').split('\n');
  bundleModules = code.flatMap((text, i): Array<[number, string]> => {
    const m = /^\/\*\*\*\/ "([^"]+)"/.exec(text);
    return m ? [[i, m[1]]] : [];
  });
} catch {
  // no bundle kept: the sandbox's frames stay `workflow-bundle`
}
const tallies = new Map<string, Tally>();
const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
for (const file of files) {
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile;
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread.
  const thread = file.split('.')[4] === '0' ? 'main' : `thread ${file.split('.')[4]}`;
  summarise(profile, thread, windows, tallies);
}
const top = Number(process.env.TOP ?? 15);
for (const [pass, tally] of tallies) {
  process.stdout.write(
    `\n== ${pass}: ${tally.actions} actions, ${(tally.total / tally.actions).toFixed(2)} ms of sampled CPU per action (all threads, idle excluded)\n` +
      `by owner (first known module up the stack):\n${tally.top('owner', 20).join('\n')}\n` +
      `by module (self time):\n${tally.top('module', top).join('\n')}\n` +
      `by function (self time):\n${tally.top('function', top).join('\n')}\n`,
  );
}
