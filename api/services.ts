/** Everything the routes stand on, built once per app from its dependencies. */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { PrismaClient } from '../prisma/client';
import type { KeyAuthentication } from './auth';
import { audienceStore, consentStore } from '../audiences/store';
import { campaignStore } from '../readmodel/campaigns';
import { deliveryStore } from '../delivery/store/messages';
import { executionStore } from '../triggers/store';
import { reportStore, trackingStore } from '../reports/store';
import { campaignCommands } from './campaign-commands';
import { campaignQueries } from './campaign-queries';
import { perAddressRateLimit, perKeyRateLimit } from './rate-limit';
import { TemporalGateway } from './temporal-gateway';
import { triggerUseCases } from '../triggers/http/use-cases';

export interface ServiceDeps {
  client: Client;
  prisma: PrismaClient;
  /** A pg pool for the trigger hot path (plain SQL, row locks). */
  pool: Pool;
  /** API key lookups (revoking a key forgets it). */
  keys: KeyAuthentication;
  taskQueue: string;
  /** Trigger calls per second per API key. */
  triggerRateLimit: number;
  /** Tracking requests per second per client address. */
  trackingRateLimit: number;
  commandTimeoutMs: number;
  webhookAllowPrivate: boolean;
}

export function createServices({
  client,
  prisma,
  pool,
  keys,
  taskQueue,
  commandTimeoutMs,
  webhookAllowPrivate,
  triggerRateLimit,
  trackingRateLimit,
}: ServiceDeps) {
  const gateway = new TemporalGateway({ client, taskQueue, commandTimeoutMs });
  const audiences = audienceStore(prisma);
  const campaigns = campaignStore(prisma, pool);
  const queries = campaignQueries(campaigns);
  const executions = executionStore(pool);
  return {
    keys,
    executions,
    triggers: triggerUseCases({ executions, campaigns, audiences, gateway }),
    triggerRateLimit: perKeyRateLimit(triggerRateLimit, 'trigger calls'),
    trackingRateLimit: perAddressRateLimit(trackingRateLimit),
    prisma,
    audiences,
    consent: consentStore(prisma),
    deliveries: deliveryStore(prisma),
    reports: reportStore(prisma),
    tracking: trackingStore(prisma),
    queries,
    commands: campaignCommands({ gateway, queries, audiences, webhookAllowPrivate }),
  };
}

export type Services = ReturnType<typeof createServices>;
