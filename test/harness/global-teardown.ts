import { rmSync } from 'node:fs';
import type { TestInfra } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const infra = (globalThis as Record<string, unknown>).__campaignTestInfra as TestInfra | undefined;
  if (!infra) return;
  await infra.temporal.stop();
  await infra.postgres.stop();
  rmSync(infra.dir, { recursive: true, force: true });
}
