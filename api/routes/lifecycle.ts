/** Lifecycle commands on a campaign: activate, stop, duplicate, archive, delete. */
import { campaignETag, commandMeta, expectedRevisionOf, idempotencyScope } from '../http';
import type { Routes } from '../routing';
import {
  activationSchema,
  campaignSchema,
  emptySchema,
  idParams,
  stopResponseSchema,
  stopSchema,
} from '../schemas';
import type { Services } from '../services';
import { toCampaign, toVersion } from '../views';

export function lifecycleRoutes(routes: Routes, { commands }: Services): void {
  routes.add({
    method: 'post',
    path: '/v1/campaigns/:id/activate',
    tag: 'lifecycle',
    summary: 'Review and activate the draft',
    description: 'The draft becomes version n+1 and replaces the live version.',
    permission: 'publish',
    params: idParams,
    body: emptySchema,
    ifMatch: true,
    responses: {
      200: { description: 'activated', schema: activationSchema },
      404: { description: 'no such campaign' },
      409: { description: 'no draft, or read-only' },
      412: { description: 'draft changed since your ETag' },
      422: { description: 'review failed (field errors listed)' },
    },
    async handler({ params, req, res }) {
      const meta = { ...commandMeta(req), ...expectedRevisionOf(req) };
      const { campaign, version } = await commands.activate(params.id, meta);
      res
        .set('ETag', campaignETag(campaign.revision))
        .json({ campaign: toCampaign(campaign), version: toVersion(version) });
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
    responses: {
      200: { description: 'stopped, with a receipt', schema: stopResponseSchema },
      404: { description: 'no such campaign' },
      409: { description: 'already stopped or finished' },
    },
    async handler({ params, body, req, res }) {
      const { campaign, receipt } = await commands.stop(params.id, body.mode, commandMeta(req));
      res.json({ campaign: toCampaign(campaign), receipt });
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
    responses: {
      201: { description: 'the new campaign', schema: campaignSchema },
      404: { description: 'no such campaign' },
      409: { description: 'the campaign is stopped' },
    },
    async handler({ params, req, res }) {
      const row = await commands.duplicate(params.id, commandMeta(req), idempotencyScope(req));
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
    responses: {
      200: { description: 'archived', schema: campaignSchema },
      404: { description: 'no such campaign' },
      409: { description: 'not completed or stopped' },
    },
    async handler({ params, req, res }) {
      res.json(toCampaign(await commands.archive(params.id, commandMeta(req))));
    },
  });

  routes.add({
    method: 'delete',
    path: '/v1/campaigns/:id',
    tag: 'lifecycle',
    summary: 'Delete a never-activated draft campaign',
    permission: 'edit',
    params: idParams,
    responses: {
      204: { description: 'deleted' },
      404: { description: 'no such campaign' },
      409: { description: 'it was activated (stop or archive it instead)' },
    },
    async handler({ params, req, res }) {
      await commands.remove(params.id, commandMeta(req));
      res.status(204).end();
    },
  });
}
