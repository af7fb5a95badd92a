/** The Express app on a real dev stack, with one API key per role. */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { createApp, type ApiDeps } from '../../api/app';
import { createApiKey } from '../../api/auth';
import type { Role } from '../../api/schemas';
import type { TrackingConfig } from '../../runtime/tracking-tokens';
import { startDevStack, type DevStack } from './stack';

export interface ApiHarness {
  stack: DevStack;
  app: ReturnType<typeof createApp>;
  /** `Authorization` header value per role. */
  auth: Record<Role, string>;
  /** Each role's key name: the actor of what that key does. */
  names: Record<Role, string>;
  stop(): Promise<void>;
}

/** The tracking settings of `testApp`: a key generated for this test process (none is built in). */
export const testTracking: TrackingConfig = {
  baseUrl: 'http://localhost:3000',
  keys: { current: randomBytes(32).toString('base64url') },
};

/**
 * The Express app on `stack` (its client, database and task queue), silent, verifying links signed
 * with `testTracking`, with `options` on top.
 */
export function testApp(stack: DevStack, options: Partial<ApiDeps> = {}): ReturnType<typeof createApp> {
  return createApp({
    client: stack.client,
    prisma: stack.prisma,
    pool: stack.pool,
    taskQueue: stack.taskQueue,
    logger: pino({ level: 'silent' }),
    tracking: testTracking,
    ...options,
  });
}

export async function startApiHarness(prefix: string): Promise<ApiHarness> {
  const stack = await startDevStack(prefix);
  const app = testApp(stack);
  const auth = {} as Record<Role, string>;
  const names = {} as Record<Role, string>;
  for (const role of ['viewer', 'editor', 'publisher', 'admin'] as const) {
    names[role] = `${role}-${randomUUID().slice(0, 6)}`;
    auth[role] = `Bearer ${(await createApiKey(stack.prisma, names[role], role)).key}`;
  }
  return { stack, app, auth, names, stop: () => stack.stop() };
}
