/** Campaigns as a collection: create, list, read one, rename/describe/tag one, and its audit trail. */
import { campaignETag, commandMeta, idempotencyScope } from '../http';
import type { Routes } from '../routing';
import {
  campaignListSchema,
  campaignSchema,
  createCampaignSchema,
  describeCampaignSchema,
  historySchema,
  idParams,
  listQuerySchema,
  shortPageQuerySchema,
} from '../schemas';
import type { Services } from '../services';
import { toCampaign, toHistoryItem } from '../views';

export function campaignRoutes(routes: Routes, { commands, queries }: Services): void {
  routes.add({
    method: 'post',
    path: '/v1/campaigns',
    tag: 'campaigns',
    summary: 'Create a draft campaign',
    description:
      'With `Idempotency-Key`, the campaign id derives from the key: a retry with the same key and body ' +
      'replays the first 201 (`Idempotent-Replayed: true`) for as long as the key is kept (24 h), even when ' +
      'the campaign was deleted since; after that, a retry whose campaign was deleted is 409 ' +
      '`CAMPAIGN_DELETED` (a deleted campaign is never created again).',
    permission: 'edit',
    body: createCampaignSchema,
    responses: {
      201: { description: 'created (or the first 201, replayed)', schema: campaignSchema },
      409: {
        description:
          'CAMPAIGN_DELETED: the campaign this Idempotency-Key created was deleted (its key no longer kept); ' +
          'REQUEST_IN_PROGRESS: the first request with this key is still running (Retry-After)',
      },
    },
    async handler({ body, req, res }) {
      const row = await commands.create(body, commandMeta(req), idempotencyScope(req));
      res
        .status(201)
        .location(`/v1/campaigns/${row.id}`)
        .set('ETag', campaignETag(row.revision))
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
    async handler({ query: { limit, cursor, hasDraft, ...filter }, res }) {
      const { rows, nextCursor } = await queries.list(
        { ...filter, ...(hasDraft ? { hasDraft: hasDraft === 'true' } : {}) },
        limit,
        cursor,
      );
      res.json({ items: rows.map(toCampaign), nextCursor });
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
      const row = await queries.campaign(params.id);
      res.set('ETag', campaignETag(row.revision)).json(toCampaign(row));
    },
  });

  routes.add({
    method: 'patch',
    path: '/v1/campaigns/:id',
    tag: 'campaigns',
    summary: 'Rename, describe or tag a campaign',
    description:
      'Name, description and tags are campaign-level: not versioned, changed at once (no draft, no ' +
      'activation), kept by a discard. Allowed unless the campaign is stopped, completed, archived or deleted.',
    permission: 'edit',
    params: idParams,
    body: describeCampaignSchema,
    responses: {
      200: { description: 'the campaign (ETag: its revision)', schema: campaignSchema },
      404: { description: 'no such campaign' },
      409: { description: 'campaign is stopped or read-only' },
    },
    async handler({ params, body, req, res }) {
      const row = await commands.describe(params.id, { ...body, ...commandMeta(req) });
      res.set('ETag', campaignETag(row.revision)).json(toCampaign(row));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/history',
    tag: 'campaigns',
    summary: 'Audit trail: who did what, when, on which version',
    description: 'Oldest first, cursor-paginated (`limit` 50 by default, at most 500).',
    permission: 'read',
    params: idParams,
    query: shortPageQuerySchema,
    responses: {
      200: { description: 'a page of accepted changes, oldest first', schema: historySchema },
      404: { description: 'no such campaign' },
    },
    async handler({ params, query: { limit, cursor }, res }) {
      const { rows, nextCursor } = await queries.history(params.id, limit, cursor);
      res.json({ items: rows.map(toHistoryItem), nextCursor });
    },
  });
}
