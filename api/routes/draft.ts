/** The draft: read, edit, start one from the live version ("Modify campaign"), discard it. */
import type { Response } from 'express';
import type { Draft } from '../../domain/types';
import { commandMeta, expectedRevisionOf } from '../http';
import type { Routes } from '../routing';
import { draftSchema, editDraftSchema, emptySchema, idParams } from '../schemas';
import type { Services } from '../services';

/** Sends a draft with its revision as ETag (the value `If-Match` is compared with). */
export function sendDraft(res: Response, draft: Draft): void {
  res.set('ETag', `"${draft.revision}"`).json(draft);
}

export function draftRoutes(routes: Routes, { commands, queries }: Services): void {
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
      sendDraft(res, await queries.draft(params.id));
    },
  });

  routes.add({
    method: 'patch',
    path: '/v1/campaigns/:id/draft',
    tag: 'draft',
    summary: 'Edit the draft',
    description:
      'Replaces the given fields. Send `If-Match` with the draft’s ETag to avoid lost updates. ' +
      'Name, description and tags are campaign-level: change them with `PATCH /v1/campaigns/:id` ' +
      '(sent here, they are refused with 400 naming the field).',
    permission: 'edit',
    params: idParams,
    body: editDraftSchema,
    ifMatch: true,
    responses: {
      200: { description: 'the edited draft', schema: draftSchema },
      404: { description: 'no such campaign, or no draft' },
      409: { description: 'campaign is read-only' },
      412: { description: 'draft changed since your ETag' },
    },
    async handler({ params, body, req, res }) {
      const edit = { ...body, ...expectedRevisionOf(req), ...commandMeta(req) };
      sendDraft(res, await commands.editDraft(params.id, edit));
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
    responses: {
      201: { description: 'the new draft', schema: draftSchema },
      404: { description: 'no such campaign' },
      409: { description: 'not live/scheduled, or a draft exists' },
    },
    async handler({ params, req, res }) {
      const draft = await commands.modify(params.id, commandMeta(req));
      res.status(201).location(`/v1/campaigns/${params.id}/draft`);
      sendDraft(res, draft);
    },
  });

  routes.add({
    method: 'delete',
    path: '/v1/campaigns/:id/draft',
    tag: 'draft',
    summary: 'Discard the draft',
    permission: 'edit',
    params: idParams,
    responses: {
      204: { description: 'discarded; the live version is untouched' },
      404: { description: 'no such campaign, or no draft' },
      409: { description: 'never activated (delete it instead), or read-only' },
    },
    async handler({ params, req, res }) {
      await commands.discardDraft(params.id, commandMeta(req));
      res.status(204).end();
    },
  });
}
