/**
 * The secrets `npm start` and `npm run start:cluster` run with: TRACKING_KEY (signs tracking links)
 * and WEBHOOK_SECRET (signs webhook bodies). A value in the environment wins; otherwise the first
 * start generates a random one and keeps it in `<data dir>/secrets.json` (mode 0600), beside the data
 * it protects, and later starts reuse it. Under NODE_ENV=production nothing is generated: production
 * gets its secrets from its operator, and the worker and the API refuse to start without them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../runtime/config';

const NAMES = ['TRACKING_KEY', 'WEBHOOK_SECRET'] as const;
type Secrets = Partial<Record<(typeof NAMES)[number], string>>;

function read(file: string): Secrets {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`${file} is not a secrets file (${(error as Error).message}); fix or delete it.`);
  }
}

/** `env` with TRACKING_KEY and WEBHOOK_SECRET filled in from (or generated into) `dataDir`. */
export function dataDirSecrets(dataDir: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.NODE_ENV === 'production') return { ...env };
  const file = path.join(dataDir, 'secrets.json');
  const kept = read(file);
  const missing = NAMES.filter((name) => !kept[name]);
  if (missing.length > 0) {
    for (const name of missing) kept[name] = randomBytes(32).toString('base64url');
    writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
  }
  const filled: NodeJS.ProcessEnv = { ...env };
  for (const name of NAMES) filled[name] ||= kept[name];
  return filled;
}
