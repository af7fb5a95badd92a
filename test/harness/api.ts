/** The Express app on a real dev stack, with one API key per role. */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createApp } from '../../api/app';
import { createApiKey } from '../../api/auth';
import type { Role } from '../../api/schemas';
import { startDevStack, type DevStack } from './stack';

export interface ApiHarness {
  stack: DevStack;
  app: ReturnType<typeof createApp>;
  /** `Authorization` header value per role. */
  auth: Record<Role, string>;
  stop(): Promise<void>;
}

export async function startApiHarness(prefix: string): Promise<ApiHarness> {
  const stack = await startDevStack(prefix);
  const app = createApp({
    client: stack.client,
    prisma: stack.prisma,
    taskQueue: stack.taskQueue,
    logger: pino({ level: 'silent' }),
  });
  const auth = {} as Record<Role, string>;
  for (const role of ['viewer', 'editor', 'publisher', 'admin'] as const) {
    const { key } = await createApiKey(stack.prisma, `${role}-${randomUUID().slice(0, 6)}`, role);
    auth[role] = `Bearer ${key}`;
  }
  return { stack, app, auth, stop: () => stack.stop() };
}
