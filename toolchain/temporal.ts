/**
 * `npm run temporal -- <args>`: the Temporal CLI that our scripts resolve (building it on first
 * use), pointed at TEMPORAL_ADDRESS (default: the local dev server of `npm start`).
 */
import { spawn } from 'node:child_process';
import { SetupError } from './common';
import { requireTemporalCliBinary } from './temporal-cli';

async function main(): Promise<void> {
  const cli = await requireTemporalCliBinary();
  const env = { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' };
  const child = spawn(cli, process.argv.slice(2), { stdio: 'inherit', env });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((error: Error) => {
  process.stderr.write(`${error instanceof SetupError ? error.message : error.stack}\n`);
  process.exit(1);
});
