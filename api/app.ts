/**
 * The Express application, built from injected dependencies (a Temporal client, a Prisma client)
 * so tests run it against the real stack without globals.
 */
import { randomUUID } from 'node:crypto';
import { Client, WorkflowExecutionAlreadyStartedError, isGrpcServiceError } from '@temporalio/client';
import express, { type Request, type Response } from 'express';
import type { PrismaClient } from '../prisma/client';
import type { Logger } from '../worker/logger';
import type { campaignWorkflow } from '../workflows/campaign';
import { campaignWorkflowId, projectedUpdate } from '../workflows/messages';
import {
  CampaignChannel,
  CampaignHasDraft,
  CampaignStatus,
  CampaignType,
} from '../workflows/search-attributes';
import type { CreateCampaign } from '../workflows/types';
import { HttpProblem, problemHandler } from './problem';
import { campaignIdSchema, createCampaignSchema } from './schemas';

export interface ApiDeps {
  client: Client;
  prisma: PrismaClient;
  taskQueue: string;
  logger: Logger;
  /** How long a command waits for the workflow before answering 503 (default 10 s). */
  commandTimeoutMs?: number;
}

export function createApp(deps: ApiDeps): express.Express {
  const { client, prisma, taskQueue, logger } = deps;
  const commandTimeoutMs = deps.commandTimeoutMs ?? 10_000;
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const [temporal, postgres] = await Promise.all([
      client.workflowService.getSystemInfo({}).then(
        () => 'ok',
        (error: Error) => error.message,
      ),
      prisma.$queryRaw`SELECT 1`.then(
        () => 'ok',
        (error: Error) => error.message,
      ),
    ]);
    const ready = temporal === 'ok' && postgres === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', temporal, postgres });
  });

  /** Runs a workflow call with a deadline; no answer in time becomes 503 with Retry-After. */
  async function withinDeadline<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await client.withDeadline(Date.now() + commandTimeoutMs, call);
    } catch (error) {
      if (isGrpcServiceError(error) && error.code === 4 /* DEADLINE_EXCEEDED */) {
        throw new HttpProblem(
          503,
          'WORKFLOW_UNAVAILABLE',
          'the campaign workflow did not answer in time; is a worker running?',
          [],
          { 'Retry-After': '5' },
        );
      }
      throw error;
    }
  }

  app.post('/v1/campaigns', async (req: Request, res: Response) => {
    const body = createCampaignSchema.parse(req.body ?? {});
    const command: CreateCampaign = {
      ...body,
      campaignId: randomUUID(),
      requestId: req.get('Idempotency-Key') ?? randomUUID(),
      actor: 'anonymous',
    };
    const workflowId = campaignWorkflowId(command.campaignId);
    try {
      const handle = await client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId,
        taskQueue,
        args: [{ create: command }],
        staticSummary: `Campaign: ${command.name}`,
        // Set at start so the campaign is findable at once; the workflow keeps them current.
        typedSearchAttributes: [
          { key: CampaignStatus, value: 'draft' },
          { key: CampaignHasDraft, value: true },
          { key: CampaignType, value: command.type },
          { key: CampaignChannel, value: command.channel },
        ],
      });
      await withinDeadline(() => handle.executeUpdate(projectedUpdate));
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new HttpProblem(409, 'CAMPAIGN_EXISTS', `workflow ${workflowId} already exists`);
      }
      throw error;
    }
    const campaign = await readCampaign(command.campaignId);
    res.status(201).location(`/v1/campaigns/${command.campaignId}`);
    sendCampaign(res, campaign);
  });

  app.get('/v1/campaigns/:id', async (req: Request, res: Response) => {
    sendCampaign(res, await readCampaign(String(req.params.id)));
  });

  async function readCampaign(id: string) {
    const campaign = campaignIdSchema.safeParse(id).success
      ? await prisma.campaign.findUnique({ where: { id } })
      : null;
    if (!campaign) throw new HttpProblem(404, 'CAMPAIGN_NOT_FOUND', `no campaign with id ${id}`);
    return campaign;
  }

  function sendCampaign(res: Response, campaign: Awaited<ReturnType<typeof readCampaign>>) {
    res.set('ETag', `"${campaign.revision}"`).json({
      id: campaign.id,
      workflowId: campaign.workflowId,
      name: campaign.name,
      description: campaign.description,
      type: campaign.type,
      channel: campaign.channel,
      status: campaign.status,
      tags: campaign.tags,
      liveVersion: campaign.liveVersion,
      hasDraft: campaign.hasDraft,
      draftRevision: campaign.draftRevision,
      revision: campaign.revision,
      createdBy: campaign.createdBy,
      createdAt: campaign.createdAt.toISOString(),
      updatedAt: campaign.updatedAt.toISOString(),
    });
  }

  app.use((req, _res, next) =>
    next(new HttpProblem(404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`)),
  );
  app.use(problemHandler(logger));
  return app;
}
