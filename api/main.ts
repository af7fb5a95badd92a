/**
 * `npm run api`: the HTTP API alone, against external services (TEMPORAL_ADDRESS, DATABASE_URL).
 */
import { Client } from '@temporalio/client';
import { createPrisma } from '../prisma/client';
import {
  ConfigError,
  connectClient,
  databaseUrl,
  temporalSettings,
  trackingConfig,
  trackingRateLimit,
  triggerRateLimit,
  trustProxy,
} from '../runtime/config';
import { logger } from '../runtime/logger';
import { API_POOL_SIZE, createPool } from '../runtime/pools';
import { runUntilSignal } from '../runtime/shutdown';
import { createApp } from './app';
import { ensureAdminKey } from './auth';
import { purgeIdempotencyRecords } from './idempotency';

export async function startApi(env: NodeJS.ProcessEnv = process.env) {
  const tracking = trackingConfig(env);
  const settings = temporalSettings(env);
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a TCP port number (0-65535), got "${env.PORT}".`);
  }
  const prisma = createPrisma(databaseUrl(env));
  try {
    await prisma.$queryRaw`SELECT 1`;
  } catch (error) {
    throw new ConfigError(
      `Cannot reach PostgreSQL at DATABASE_URL (${(error as Error).message}); start it or fix DATABASE_URL.`,
    );
  }
  let createdKey: string | undefined;
  try {
    createdKey = await ensureAdminKey(prisma, env.ADMIN_API_KEY);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (createdKey && !env.CAMPAIGN_QUIET_KEY) {
    process.stderr.write(
      `\nNo API key existed, so an admin key was created. It is shown only this once:\n\n  ${createdKey}\n\n` +
        'Use it as "Authorization: Bearer <key>"; create more keys with POST /v1/api-keys.\n\n',
    );
  }
  const connection = await connectClient(settings);
  const client = new Client({ connection, namespace: settings.namespace });
  const pool = createPool(databaseUrl(env), API_POOL_SIZE);
  const app = createApp({
    client,
    prisma,
    pool,
    triggerRateLimit: triggerRateLimit(env),
    trackingRateLimit: trackingRateLimit(env),
    trustProxy: trustProxy(env),
    taskQueue: settings.taskQueue,
    logger,
    webhookAllowPrivate: env.WEBHOOK_ALLOW_PRIVATE === 'true',
    tracking,
  });
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const s = app.listen(port, () => resolve(s));
    s.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(
              `Port ${port} is already in use; stop what listens there or set PORT to another port.`,
            )
          : error,
      ),
    );
  });
  // Idempotency records past their retention go hourly (and once now).
  const purge = () =>
    purgeIdempotencyRecords(prisma).catch((error: Error) =>
      logger.warn({ reason: error.message }, 'purging idempotency records failed'),
    );
  void purge();
  const purger = setInterval(purge, 3_600_000).unref();
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  logger.info({ port: boundPort }, 'api listening');
  return {
    port: boundPort,
    createdKey,
    async stop() {
      clearInterval(purger);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
      await pool.end();
      await prisma.$disconnect();
    },
  };
}

if (require.main === module) {
  void runUntilSignal('api', startApi);
}
