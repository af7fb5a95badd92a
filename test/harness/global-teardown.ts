import { rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { LocalPostgres } from '../../toolchain/postgres';

export default async function globalTeardown(): Promise<void> {
  const infra = (globalThis as Record<string, unknown>).__campaignTestInfra as
    { postgres: LocalPostgres; devServer: TestWorkflowEnvironment; dir: string } | undefined;
  if (!infra) return;
  await infra.devServer.teardown();
  await infra.postgres.stop();
  rmSync(infra.dir, { recursive: true, force: true });
}
