/**
 * The Express application, built from injected dependencies (a Temporal client, a Prisma client, a
 * logger) so tests run it against the real stack without globals.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import express from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import type { PrismaClient } from '../prisma/client';
import { ping } from '../readmodel/sql';
import type { Logger } from '../runtime/logger';
import type { TrackingConfig } from '../runtime/tracking-tokens';
import { keyAuthentication } from './auth';
import { consoleRoutes } from './console';
import { idempotency } from './idempotency';
import { createMetrics } from './metrics';
import { HttpProblem, problemHandler } from './problem';
import { Routes } from './routing';
import { audienceRoutes } from '../audiences/http/routes';
import { campaignRoutes } from './routes/campaigns';
import { deliveryRoutes } from '../delivery/http/routes';
import { draftRoutes } from './routes/draft';
import { executionRoutes } from '../triggers/http/routes';
import { keyRoutes } from './routes/keys';
import { lifecycleRoutes } from './routes/lifecycle';
import { previewRoutes } from './routes/preview';
import { profileRoutes } from '../audiences/http/profile-routes';
import { reportRoutes } from '../reports/http/routes';
import { trackingRoutes } from '../reports/http/tracking-routes';
import { versionRoutes } from './routes/versions';
import { createServices } from './services';

export interface ApiDeps {
  client: Client;
  prisma: PrismaClient;
  /** A pg pool for the trigger hot path. */
  pool: Pool;
  taskQueue: string;
  logger: Logger;
  /** Trigger calls per second per API key (default 1,000; `TRIGGER_RATE_LIMIT`). */
  triggerRateLimit?: number;
  /** Tracking requests per second per client address (default 200; `TRACKING_RATE_LIMIT`). */
  trackingRateLimit?: number;
  /** Proxies whose `X-Forwarded-For` is believed (default loopback; `TRUST_PROXY`). */
  trustProxy?: number | string[];
  /** How long a command waits for the workflow before answering 503 (default 10 s). */
  commandTimeoutMs?: number;
  /** Allow webhook targets on loopback and private networks (default false; tests set it). */
  webhookAllowPrivate?: boolean;
  /**
   * Keys that verify tracking tokens: the worker's (TRACKING_KEY). Without them, a random key of this
   * app's own, so no link verifies that it did not sign (no key is written in the code).
   */
  tracking?: TrackingConfig;
}

function ownTracking(): TrackingConfig {
  return { baseUrl: 'http://localhost', keys: { current: randomBytes(32).toString('base64url') } };
}

export function createApp(deps: ApiDeps): express.Express {
  const { client, prisma, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? ['loopback']);
  app.use(helmet());
  const metrics = createMetrics();
  app.use(metrics.middleware);
  // Public tracking routes (open pixel, links, unsubscribe), before the request log: they are
  // recorded as events, at thousands a second; no API key, no Idempotency-Key.
  const open = express.Router();
  app.use(open);
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  // Profile upserts carry up to 10,000 profiles.
  app.use(express.json({ limit: '16mb' }));

  // Public: health, metrics, the API description.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [temporal, postgres] = await Promise.all([
      client.workflowService.getSystemInfo({}).then(
        () => 'ok',
        (error: Error) => error.message,
      ),
      ping(prisma).then(
        () => 'ok',
        (error: Error) => error.message,
      ),
    ]);
    const ready = temporal === 'ok' && postgres === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', temporal, postgres });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer <key>`',
  });
  const v1 = express.Router();
  const keys = keyAuthentication(prisma);
  v1.use(keys.authenticate);
  const routes = new Routes(v1, registry, idempotency(prisma));
  const services = createServices({
    client,
    prisma,
    pool: deps.pool,
    keys,
    triggerRateLimit: deps.triggerRateLimit ?? 1000,
    trackingRateLimit: deps.trackingRateLimit ?? 200,
    taskQueue: deps.taskQueue,
    commandTimeoutMs: deps.commandTimeoutMs ?? 10_000,
    webhookAllowPrivate: deps.webhookAllowPrivate ?? false,
  });
  for (const register of [
    campaignRoutes,
    draftRoutes,
    lifecycleRoutes,
    versionRoutes,
    profileRoutes,
    audienceRoutes,
    deliveryRoutes,
    executionRoutes,
    reportRoutes,
    keyRoutes,
    previewRoutes,
  ]) {
    register(routes, services);
  }
  routes.close();
  const publicRoutes = new Routes(open, registry, (_req, _res, next) => next());
  trackingRoutes(publicRoutes, services, deps.tracking ?? ownTracking());
  publicRoutes.close();

  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'campaign-orchestrator',
      version: '1.0.0',
      description:
        'Marketing campaign lifecycle: create, edit, activate, modify, stop. Every campaign is a durable ' +
        'Temporal workflow; errors are RFC 9457 problem documents with a stable `code`.',
    },
    servers: [{ url: '/' }],
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(document, { customSiteTitle: 'campaign-orchestrator API' }),
  );

  // The web console: `/` and its assets, public (the page signs in with an API key for /v1).
  app.use(consoleRoutes());
  app.use(v1);
  app.use((req, _res, next) =>
    next(new HttpProblem(404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`)),
  );
  app.use(problemHandler(logger));
  return app;
}
