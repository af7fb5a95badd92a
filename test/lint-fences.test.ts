/**
 * The ESLint fences of eslint.config.mjs fail a deliberate violation: pg or Prisma imported outside
 * a store module, I/O in a feature's workflow code (the trigger dispatcher, the run child workflow),
 * and a file or function over the size limits. Runs ESLint's Node API on snippets, linted as if
 * they sat at the given paths (no file is written).
 */
import path from 'node:path';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: path.resolve(__dirname, '..') });

/** The rules a snippet breaks when linted as file `filePath`. */
async function broken(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.resolve(__dirname, '..', filePath) });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

const USES_PG = `import { Pool } from 'pg';\nexport const pool = new Pool();\n`;
const USES_PRISMA = `import { createPrisma } from '../prisma/client';\nexport const prisma = createPrisma('');\n`;

describe('one store per table', () => {
  test('pg or Prisma at run time outside a store is refused, type imports are not', async () => {
    expect(await broken(USES_PG, 'api/routes/campaigns.ts')).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
    expect(await broken(USES_PG, 'triggers/activities.ts')).toContain(
      '@typescript-eslint/no-restricted-imports',
    );
    expect(await broken(USES_PRISMA, 'api/auth.ts')).toContain('@typescript-eslint/no-restricted-imports');
    const typeOnly = `import type { Pool } from 'pg';\nexport type P = Pool;\n`;
    expect(await broken(typeOnly, 'triggers/activities.ts')).toEqual([]);
  });

  test('store modules, readmodel/ and the entry points may import them', async () => {
    expect(await broken(USES_PG, 'triggers/store/dispatch.ts')).toEqual([]);
    expect(await broken(USES_PG, 'delivery/store/runs.ts')).toEqual([]);
    expect(await broken(USES_PG, 'readmodel/campaigns.ts')).toEqual([]);
    expect(await broken(USES_PG, 'runtime/pools.ts')).toEqual([]);
    expect(await broken(USES_PRISMA, 'api/store.ts')).toEqual([]);
    expect(await broken(USES_PRISMA, 'reports/store.ts')).toEqual([]);
  });
});

describe('workflow code in feature folders', () => {
  test('Node built-ins and stores are refused in the dispatcher and the run workflow', async () => {
    const fs = `import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n`;
    expect(await broken(fs, 'triggers/dispatcher.ts')).toContain('no-restricted-imports');
    expect(await broken(fs, 'delivery/run.ts')).toContain('no-restricted-imports');
    const store = `import { claimQueue } from './store/dispatch';\nexport const claim = claimQueue;\n`;
    expect(await broken(store, 'triggers/dispatcher.ts')).toContain('no-restricted-imports');
    const runs = `import { claimRun } from './store/runs';\nexport const claim = claimRun;\n`;
    expect(await broken(runs, 'delivery/run.ts')).toContain('no-restricted-imports');
  });
});

describe('size by rule', () => {
  test('a file over 400 lines and a function over 120 are refused', async () => {
    const lines = (n: number, line: (i: number) => string) =>
      Array.from({ length: n }, (_, i) => line(i)).join('\n');
    const longFile = lines(401, (i) => `export const c${i} = ${i};`) + '\n';
    expect(await broken(longFile, 'delivery/send.ts')).toContain('max-lines');
    const longFunction = `export function f(): number {\n  let n = 0;\n${lines(120, () => '  n += 1;')}\n  return n;\n}\n`;
    expect(await broken(longFunction, 'delivery/send.ts')).toContain('max-lines-per-function');
  });
});
