/**
 * The activity registry: every activity the worker registers and the workflows proxy
 * (`CampaignActivities`): the projection and the headline figures here, the delivery and trigger
 * activities from their feature folders. Built from injected dependencies so tests and the worker
 * share one implementation.
 */
import type { Pool } from 'pg';
import type { PrismaClient } from '../prisma/client';
import { campaignStore } from '../readmodel/campaigns';
import { project, type Projection } from '../readmodel/campaign-projection';
import { reportStore } from '../reports/store';
import type { ProjectionFailure } from '../domain/types';
import { createDeliveryActivities, type DeliveryConfig } from '../delivery/activities';
import { createTriggerActivities, type DispatchPacing } from '../triggers/activities';

export type { Projection } from '../readmodel/campaign-projection';
export type { DeliveryConfig, RunCounts, RunInput, RunRef } from '../delivery/activities';
export type { DispatchInput, DispatchReport } from '../triggers/activities';

export interface ActivityDeps {
  prisma: PrismaClient;
  /** A pg pool for the delivery hot path (bulk statements, row locks). */
  pool: Pool;
  delivery: DeliveryConfig;
  /** How the trigger dispatcher paces itself (tests shorten its linger). */
  dispatch?: DispatchPacing;
}

export function createActivities({ prisma, pool, delivery, dispatch }: ActivityDeps) {
  const campaigns = campaignStore(prisma, pool);
  const reports = reportStore(prisma);
  return {
    ...createDeliveryActivities(pool, delivery),
    ...createTriggerActivities(pool, delivery, dispatch),
    /** Projects an accepted change into the read model (idempotent; see readmodel/campaign-projection.ts). */
    async projectCampaign(projection: Projection): Promise<void> {
      await project(pool, projection);
    },
    /** The live version's headline figures for the operator card (sent, delivered, unique opens, clicks). */
    async headlineFigures(input: { campaignId: string; version: number }) {
      return reports.headline(input.campaignId, input.version);
    },
    /** Shows on the campaign row a projection the workflow gave up on (the API's `projectionError`). */
    async recordProjectionFailure(input: { campaignId: string; failure: ProjectionFailure }): Promise<void> {
      await campaigns.recordProjectionFailure(input.campaignId, input.failure);
    },
  };
}

export type CampaignActivities = ReturnType<typeof createActivities>;
