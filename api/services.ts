/** Everything the routes stand on, built once per app from its dependencies. */
import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../prisma/client';
import { audienceStore } from '../readmodel/audiences';
import { campaignStore } from '../readmodel/campaigns';
import { deliveryStore } from '../readmodel/deliveries';
import { reportStore } from '../readmodel/reports';
import { trackingStore } from '../readmodel/tracking';
import { campaignCommands } from './campaign-commands';
import { campaignQueries } from './campaign-queries';
import { TemporalGateway } from './temporal-gateway';

export interface ServiceDeps {
  client: Client;
  prisma: PrismaClient;
  taskQueue: string;
  commandTimeoutMs: number;
  webhookAllowPrivate: boolean;
}

export function createServices({
  client,
  prisma,
  taskQueue,
  commandTimeoutMs,
  webhookAllowPrivate,
}: ServiceDeps) {
  const gateway = new TemporalGateway({ client, taskQueue, commandTimeoutMs });
  const audiences = audienceStore(prisma);
  const queries = campaignQueries(campaignStore(prisma));
  return {
    prisma,
    audiences,
    deliveries: deliveryStore(prisma),
    reports: reportStore(prisma),
    tracking: trackingStore(prisma),
    queries,
    commands: campaignCommands({ gateway, queries, audiences, webhookAllowPrivate }),
  };
}

export type Services = ReturnType<typeof createServices>;
