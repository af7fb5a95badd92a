/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded PostgreSQL
 * under .data/ when DATABASE_URL is unset.
 */
import path from 'node:path';
import { migrate } from '../prisma/migrate';
import { describeStartupError } from '../runtime/shutdown';
import { repoRoot, say } from './common';
import { resolveDatabase } from './postgres';

async function main(): Promise<void> {
  const dataDir = path.resolve(process.env.DATA_DIR ?? path.join(repoRoot, '.data'));
  const db = await resolveDatabase(path.join(dataDir, 'postgres'));
  try {
    const applied = await migrate(db.url);
    say(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
  } finally {
    await db.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`db:migrate: ${describeStartupError(error)}\n`);
  process.exit(1);
});
