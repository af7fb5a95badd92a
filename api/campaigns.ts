/**
 * Campaign routes: commands go to the campaign's workflow as Temporal updates (answering once the
 * change is projected, so a GET right after shows it); reads come from PostgreSQL.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { Request, Response } from 'express';
import diff from 'microdiff';
import type { Prisma, PrismaClient } from '../prisma/client';
import type { campaignWorkflow } from '../workflows/campaign';
import {
  activateUpdate,
  archiveUpdate,
  campaignWorkflowId,
  deleteUpdate,
  discardUpdate,
  duplicateUpdate,
  editUpdate,
  modifyUpdate,
  projectedUpdate,
  rollbackUpdate,
  stopUpdate,
} from '../workflows/messages';
import { searchAttributes } from '../workflows/search-attributes';
import type {
  CommandPayload,
  CommandResult,
  CreateCampaign,
  Draft,
  EditDraft,
  StopReceipt,
  VersionSpec,
} from '../domain/types';
import { specOf } from '../domain/lifecycle';
import { requestIdOf } from './idempotency';
import { HttpProblem } from './problem';
import type { Routes } from './routing';
import {
  activationSchema,
  campaignListSchema,
  campaignSchema,
  createCampaignSchema,
  diffParams,
  diffSchema,
  draftSchema,
  editDraftSchema,
  emptySchema,
  historySchema,
  idParams,
  listQuerySchema,
  rollbackSchema,
  stopResponseSchema,
  stopSchema,
  versionListSchema,
  versionParams,
  versionSchema,
} from './schemas';

type CampaignRow = Awaited<ReturnType<PrismaClient['campaign']['findUniqueOrThrow']>>;
type VersionRow = Awaited<ReturnType<PrismaClient['campaignVersion']['findUniqueOrThrow']>>;

export interface CampaignDeps {
  client: Client;
  prisma: PrismaClient;
  taskQueue: string;
  commandTimeoutMs: number;
}

/** HTTP status for each lifecycle error code (DESIGN §3). */
const STATUS_OF_CODE: Record<string, number> = {
  REVIEW_FAILED: 422,
  REVISION_MISMATCH: 412,
  NO_SUCH_VERSION: 404,
  CAMPAIGN_DELETED: 404,
};

export function campaignRoutes(routes: Routes, deps: CampaignDeps): void {
  const { client, prisma, taskQueue } = deps;
  const actor = (req: Request) => req.principal!.name;

  async function readRow(id: string): Promise<CampaignRow> {
    const row = await prisma.campaign.findUnique({ where: { id } });
    if (!row) throw new HttpProblem(404, 'CAMPAIGN_NOT_FOUND', `no campaign with id ${id}`);
    return row;
  }

  /** Runs a workflow call with a deadline; no answer in time becomes 503 with Retry-After. */
  async function withinDeadline<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await client.withDeadline(Date.now() + deps.commandTimeoutMs, call);
    } catch (error) {
      const timedOut =
        error instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
        (isGrpcServiceError(error) && error.code === 4); // DEADLINE_EXCEEDED
      if (timedOut) {
        throw new HttpProblem(
          503,
          'WORKFLOW_UNAVAILABLE',
          'the campaign workflow did not answer in time; retry later (is a worker running?)',
          [],
          { 'Retry-After': '5' },
        );
      }
      throw error;
    }
  }

  /**
   * Sends a command update and maps a refusal to its problem response. `noDraftStatus`: 404 on the
   * draft's own routes, 409 elsewhere; `exists`: the caller already read the campaign (404 handled).
   */
  async function command<P>(
    id: string,
    update: { name: string },
    payload: P,
    { noDraftStatus = 409, exists = false }: { noDraftStatus?: number; exists?: boolean } = {},
  ): Promise<CommandResult> {
    if (!exists) await readRow(id);
    const handle = client.workflow.getHandle(campaignWorkflowId(id));
    try {
      return await withinDeadline(() =>
        handle.executeUpdate<CommandResult, [P]>(update.name, { args: [payload] }),
      );
    } catch (error) {
      const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type) {
        const fieldErrors = (cause.details?.[0] as Array<{ field: string; message: string }>) ?? [];
        const status = cause.type === 'NO_DRAFT' ? noDraftStatus : (STATUS_OF_CODE[cause.type] ?? 409);
        throw new HttpProblem(status, cause.type, cause.message, fieldErrors);
      }
      if (error instanceof WorkflowNotFoundError) {
        throw new HttpProblem(404, 'CAMPAIGN_NOT_FOUND', `no campaign with id ${id}`);
      }
      throw error;
    }
  }

  function ifMatch(req: Request): number | undefined {
    const header = req.get('If-Match');
    if (header === undefined || header.trim() === '*') return undefined;
    const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
    if (!match) {
      throw new HttpProblem(400, 'VALIDATION_FAILED', 'If-Match must be an ETag such as "3"', [
        { field: 'If-Match', message: 'must be an ETag such as "3"' },
      ]);
    }
    return Number(match[1]);
  }

  /** Starts a campaign workflow and waits until it is projected (read-your-writes). */
  async function startCampaign(
    req: Request,
    create: Omit<CreateCampaign, 'campaignId'>,
  ): Promise<CampaignRow> {
    const key = req.get('Idempotency-Key');
    // With an Idempotency-Key the id is derived from it, so a retry can never create a second one.
    const campaignId = key ? uuidFrom(`${req.principal!.keyId}:${key}:${req.originalUrl}`) : randomUUID();
    const command: CreateCampaign = { ...create, campaignId };
    let handle;
    try {
      handle = await client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId: campaignWorkflowId(campaignId),
        taskQueue,
        args: [{ create: command }],
        staticSummary: `Campaign: ${command.name}`,
        // Set at start so the campaign is findable at once; the workflow keeps them current.
        typedSearchAttributes: [
          { key: searchAttributes.status, value: 'draft' },
          { key: searchAttributes.hasDraft, value: true },
          { key: searchAttributes.type, value: command.type },
          { key: searchAttributes.channel, value: command.channel },
        ],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError && key)) throw error;
      handle = client.workflow.getHandle(campaignWorkflowId(campaignId));
    }
    await withinDeadline(() => handle.executeUpdate(projectedUpdate));
    return readRow(campaignId);
  }

  routes.add({
    method: 'post',
    path: '/v1/campaigns',
    tag: 'campaigns',
    summary: 'Create a draft campaign',
    permission: 'edit',
    body: createCampaignSchema,
    headers: ['Idempotency-Key'],
    responses: { 201: { description: 'created', schema: campaignSchema } },
    async handler({ body, req, res }) {
      const row = await startCampaign(req, {
        ...body,
        requestId: requestIdOf(req, randomUUID),
        actor: actor(req),
      });
      res
        .status(201)
        .location(`/v1/campaigns/${row.id}`)
        .set('ETag', `"${row.revision}"`)
        .json(toCampaign(row));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns',
    tag: 'campaigns',
    summary: 'List campaigns',
    description:
      'Newest first, cursor-paginated. Archived campaigns are hidden unless status=archived. ' +
      '`hasDraft=true` with `status=live` gives the live campaigns with a draft in progress.',
    permission: 'read',
    query: listQuerySchema,
    responses: { 200: { description: 'a page of campaigns', schema: campaignListSchema } },
    async handler({ query, res }) {
      const where: Prisma.CampaignWhereInput = {
        status: query.status ?? { not: 'archived' },
        ...(query.hasDraft ? { hasDraft: query.hasDraft === 'true' } : {}),
        ...(query.type ? { type: query.type } : {}),
        ...(query.channel ? { channel: query.channel } : {}),
        ...(query.tag ? { tags: { has: query.tag } } : {}),
        ...(query.q ? { name: { contains: query.q, mode: 'insensitive' } } : {}),
      };
      const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
      const rows = await prisma.campaign.findMany({
        where: cursor
          ? {
              AND: [
                where,
                {
                  OR: [
                    { createdAt: { lt: cursor.createdAt } },
                    { createdAt: cursor.createdAt, id: { lt: cursor.id } },
                  ],
                },
              ],
            }
          : where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: query.limit + 1,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      res.json({
        items: page.map(toCampaign),
        nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
      });
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id',
    tag: 'campaigns',
    summary: 'Get a campaign',
    permission: 'read',
    params: idParams,
    responses: {
      200: { description: 'the campaign (ETag: its revision)', schema: campaignSchema },
      404: { description: 'no such campaign' },
    },
    async handler({ params, res }) {
      const row = await readRow(params.id);
      res.set('ETag', `"${row.revision}"`).json(toCampaign(row));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/live',
    tag: 'versions',
    summary: 'Open the live version',
    description: 'The version that is running, unchanged by any draft.',
    permission: 'read',
    params: idParams,
    responses: {
      200: { description: 'the live version', schema: versionSchema },
      404: { description: 'no such campaign, or never activated' },
    },
    async handler({ params, res }) {
      const row = await readRow(params.id);
      if (row.liveVersion === null) {
        throw new HttpProblem(404, 'NO_LIVE_VERSION', 'campaign was never activated');
      }
      const version = await prisma.campaignVersion.findUniqueOrThrow({
        where: { campaignId_number: { campaignId: row.id, number: row.liveVersion } },
      });
      res.json(toVersion(version));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/draft',
    tag: 'draft',
    summary: 'Read the draft',
    permission: 'read',
    params: idParams,
    responses: {
      200: { description: 'the draft (ETag: its revision)', schema: draftSchema },
      404: { description: 'no such campaign, or no draft' },
    },
    async handler({ params, res }) {
      const row = await readRow(params.id);
      sendDraft(res, row.draft as Draft | null);
    },
  });

  routes.add({
    method: 'patch',
    path: '/v1/campaigns/:id/draft',
    tag: 'draft',
    summary: 'Edit the draft',
    description: 'Replaces the given fields. Send `If-Match` with the draft’s ETag to avoid lost updates.',
    permission: 'edit',
    params: idParams,
    body: editDraftSchema,
    headers: ['If-Match', 'Idempotency-Key'],
    responses: {
      200: { description: 'the edited draft', schema: draftSchema },
      404: { description: 'no such campaign, or no draft' },
      409: { description: 'campaign is read-only' },
      412: { description: 'draft changed since your ETag' },
    },
    async handler({ params, body, req, res }) {
      const expectedRevision = ifMatch(req);
      const payload: CommandPayload<EditDraft> = {
        ...body,
        ...(expectedRevision !== undefined ? { expectedRevision } : {}),
        requestId: requestIdOf(req, randomUUID),
        actor: actor(req),
      };
      const result = await command(params.id, editUpdate, payload, { noDraftStatus: 404 });
      sendDraft(res, result.state.draft);
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/campaigns/:id/modify',
    tag: 'draft',
    summary: 'Modify a live campaign: new draft from the live version',
    permission: 'edit',
    params: idParams,
    body: emptySchema,
    headers: ['Idempotency-Key'],
    responses: {
      201: { description: 'the new draft', schema: draftSchema },
      404: { description: 'no such campaign' },
      409: { description: 'not live/scheduled, or a draft exists' },
    },
    async handler({ params, req, res }) {
      const result = await command(params.id, modifyUpdate, meta(req));
      res.status(201).location(`/v1/campaigns/${params.id}/draft`);
      sendDraft(res, result.state.draft);
    },
  });

  routes.add({
    method: 'delete',
    path: '/v1/campaigns/:id/draft',
    tag: 'draft',
    summary: 'Discard the draft',
    permission: 'edit',
    params: idParams,
    headers: ['Idempotency-Key'],
    responses: {
      204: { description: 'discarded; the live version is untouched' },
      404: { description: 'no such campaign, or no draft' },
      409: { description: 'never activated (delete it instead), or read-only' },
    },
    async handler({ params, req, res }) {
      await command(params.id, discardUpdate, meta(req), { noDraftStatus: 404 });
      res.status(204).end();
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/campaigns/:id/activate',
    tag: 'lifecycle',
    summary: 'Review and activate the draft',
    description: 'The draft becomes version n+1 and replaces the live version.',
    permission: 'publish',
    params: idParams,
    body: emptySchema,
    headers: ['If-Match', 'Idempotency-Key'],
    responses: {
      200: { description: 'activated', schema: activationSchema },
      404: { description: 'no such campaign' },
      409: { description: 'no draft, or read-only' },
      412: { description: 'draft changed since your ETag' },
      422: { description: 'review failed (field errors listed)' },
    },
    async handler({ params, req, res }) {
      const expectedRevision = ifMatch(req);
      const draft = (await readRow(params.id)).draft as Draft | null;
      const audienceId = draft?.audience?.audienceId;
      if (
        audienceId &&
        !(await prisma.audience.findUnique({ where: { id: audienceId }, select: { id: true } }))
      ) {
        throw new HttpProblem(422, 'REVIEW_FAILED', 'review failed', [
          { field: 'audience.audienceId', message: `no audience with id ${audienceId}` },
        ]);
      }
      const result = await command(
        params.id,
        activateUpdate,
        { ...meta(req), ...(expectedRevision !== undefined ? { expectedRevision } : {}) },
        { exists: true },
      );
      const row = await readRow(params.id);
      const version = await prisma.campaignVersion.findUniqueOrThrow({
        where: { campaignId_number: { campaignId: params.id, number: result.state.versionCount } },
      });
      res.set('ETag', `"${row.revision}"`).json({ campaign: toCampaign(row), version: toVersion(version) });
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/campaigns/:id/stop',
    tag: 'lifecycle',
    summary: 'Stop the campaign (read-only for ever)',
    description: '`cancel` halts in-flight sending at once; `drain` lets the current run finish.',
    permission: 'publish',
    params: idParams,
    body: stopSchema,
    headers: ['Idempotency-Key'],
    responses: {
      200: { description: 'stopped, with a receipt', schema: stopResponseSchema },
      404: { description: 'no such campaign' },
      409: { description: 'already stopped or finished' },
    },
    async handler({ params, body, req, res }) {
      const result = await command(params.id, stopUpdate, { ...meta(req), mode: body.mode });
      const row = await readRow(params.id);
      const receipt = result.receipt ?? (row.stopReceipt as StopReceipt | null);
      res.json({ campaign: toCampaign(row), receipt });
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/campaigns/:id/duplicate',
    tag: 'lifecycle',
    summary: 'Copy into a new draft campaign',
    description: 'Refused for stopped campaigns (they can never be used to create a new one).',
    permission: 'edit',
    params: idParams,
    body: emptySchema,
    headers: ['Idempotency-Key'],
    responses: {
      201: { description: 'the new campaign', schema: campaignSchema },
      404: { description: 'no such campaign' },
      409: { description: 'the campaign is stopped' },
    },
    async handler({ params, req, res }) {
      const requestId = requestIdOf(req, randomUUID);
      const result = await command(params.id, duplicateUpdate, { requestId, actor: actor(req) });
      const source = result.duplicate!;
      const row = await startCampaign(req, {
        name: source.name,
        description: source.description,
        tags: source.tags,
        type: source.type,
        channel: source.channel,
        content: source.spec.content,
        schedule: source.spec.schedule,
        origin: source.origin,
        requestId: `${requestId}:copy`,
        actor: actor(req),
      });
      res.status(201).location(`/v1/campaigns/${row.id}`).json(toCampaign(row));
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/campaigns/:id/archive',
    tag: 'lifecycle',
    summary: 'Hide a finished campaign from default lists',
    permission: 'publish',
    params: idParams,
    body: emptySchema,
    headers: ['Idempotency-Key'],
    responses: {
      200: { description: 'archived', schema: campaignSchema },
      404: { description: 'no such campaign' },
      409: { description: 'not completed or stopped' },
    },
    async handler({ params, req, res }) {
      await command(params.id, archiveUpdate, meta(req));
      res.json(toCampaign(await readRow(params.id)));
    },
  });

  routes.add({
    method: 'delete',
    path: '/v1/campaigns/:id',
    tag: 'lifecycle',
    summary: 'Delete a never-activated draft campaign',
    permission: 'edit',
    params: idParams,
    headers: ['Idempotency-Key'],
    responses: {
      204: { description: 'deleted' },
      404: { description: 'no such campaign' },
      409: { description: 'it was activated (stop or archive it instead)' },
    },
    async handler({ params, req, res }) {
      await command(params.id, deleteUpdate, meta(req));
      res.status(204).end();
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/versions',
    tag: 'versions',
    summary: 'List versions',
    permission: 'read',
    params: idParams,
    responses: {
      200: { description: 'every version, oldest first', schema: versionListSchema },
      404: { description: 'no such campaign' },
    },
    async handler({ params, res }) {
      await readRow(params.id);
      const rows = await prisma.campaignVersion.findMany({
        where: { campaignId: params.id },
        orderBy: { number: 'asc' },
      });
      res.json({ items: rows.map(toVersion) });
    },
  });

  async function readVersion(campaignId: string, number: number): Promise<VersionRow> {
    await readRow(campaignId);
    const row = await prisma.campaignVersion.findUnique({
      where: { campaignId_number: { campaignId, number } },
    });
    if (!row) throw new HttpProblem(404, 'NO_SUCH_VERSION', `campaign has no version ${number}`);
    return row;
  }

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/versions/:n',
    tag: 'versions',
    summary: 'Get one version',
    permission: 'read',
    params: versionParams,
    responses: {
      200: { description: 'the version', schema: versionSchema },
      404: { description: 'no such campaign or version' },
    },
    async handler({ params, res }) {
      res.json(toVersion(await readVersion(params.id, params.n)));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/versions/:a/diff/:b',
    tag: 'versions',
    summary: 'What changed between two versions',
    permission: 'read',
    params: diffParams,
    responses: {
      200: { description: 'field-level changes from a to b', schema: diffSchema },
      404: { description: 'no such campaign or version' },
    },
    async handler({ params, res }) {
      const [a, b] = await Promise.all([readVersion(params.id, params.a), readVersion(params.id, params.b)]);
      const changes = diff({ ...specOfRow(a) }, { ...specOfRow(b) }).map((d) => ({
        path: d.path.join('.'),
        kind:
          d.type === 'CREATE'
            ? ('added' as const)
            : d.type === 'REMOVE'
              ? ('removed' as const)
              : ('changed' as const),
        ...('oldValue' in d ? { from: d.oldValue } : {}),
        ...('value' in d ? { to: d.value } : {}),
      }));
      res.json({ from: params.a, to: params.b, changes });
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/campaigns/:id/rollback',
    tag: 'versions',
    summary: 'New draft from an earlier version',
    permission: 'edit',
    params: idParams,
    body: rollbackSchema,
    headers: ['Idempotency-Key'],
    responses: {
      201: { description: 'the new draft', schema: draftSchema },
      404: { description: 'no such campaign or version' },
      409: { description: 'not live/scheduled, or a draft exists' },
    },
    async handler({ params, body, req, res }) {
      const version = await readVersion(params.id, body.version);
      const result = await command(
        params.id,
        rollbackUpdate,
        { ...meta(req), version: body.version, spec: specOfRow(version) },
        { exists: true },
      );
      res.status(201).location(`/v1/campaigns/${params.id}/draft`);
      sendDraft(res, result.state.draft);
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/history',
    tag: 'campaigns',
    summary: 'Audit trail: who did what, when, on which version',
    permission: 'read',
    params: idParams,
    responses: {
      200: { description: 'accepted changes, oldest first', schema: historySchema },
      404: { description: 'no such campaign' },
    },
    async handler({ params, res }) {
      await readRow(params.id);
      const rows = await prisma.campaignEvent.findMany({
        where: { campaignId: params.id },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
      });
      res.json({
        items: rows.map((e) => ({
          action: e.action,
          actor: e.actor,
          version: e.version,
          at: e.at.toISOString(),
          requestId: e.requestId,
        })),
      });
    },
  });

  function meta(req: Request) {
    return { requestId: requestIdOf(req, randomUUID), actor: actor(req) };
  }
}

function sendDraft(res: Response, draft: Draft | null): void {
  if (!draft) throw new HttpProblem(404, 'NO_DRAFT', 'campaign has no draft');
  res.set('ETag', `"${draft.revision}"`).json(draft);
}

export function toCampaign(row: CampaignRow) {
  return {
    id: row.id,
    workflowId: row.workflowId,
    name: row.name,
    description: row.description,
    tags: row.tags,
    type: row.type,
    channel: row.channel,
    status: row.status,
    liveVersion: row.liveVersion,
    hasDraft: row.hasDraft,
    draftRevision: row.draftRevision,
    startAt: row.startAt?.toISOString() ?? null,
    endAt: row.endAt?.toISOString() ?? null,
    origin: row.originCampaignId ? { campaignId: row.originCampaignId, version: row.originVersion } : null,
    finishedAs: row.finishedAs,
    stopReceipt: row.stopReceipt,
    revision: row.revision,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The versioned spec stored in a version row (audience and throttle only when set). */
function specOfRow(row: VersionRow): VersionSpec {
  return specOf({
    content: row.content as VersionSpec['content'],
    schedule: row.schedule as VersionSpec['schedule'],
    audience: (row.audience as VersionSpec['audience'] | null) ?? undefined,
    throttle: row.throttle ?? undefined,
  });
}

function toVersion(row: VersionRow) {
  return {
    number: row.number,
    ...specOfRow(row),
    activatedAt: row.activatedAt.toISOString(),
    activatedBy: row.activatedBy,
    basedOn: row.basedOn,
  };
}

function encodeCursor(row: CampaignRow): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) {
    throw new HttpProblem(400, 'VALIDATION_FAILED', 'cursor is not one this API returned', [
      { field: 'cursor', message: 'is not one this API returned' },
    ]);
  }
  return { createdAt, id };
}

/** A UUID derived from a string (stable across retries). */
function uuidFrom(input: string): string {
  const h = createHash('sha256').update(input).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
