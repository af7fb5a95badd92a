/** Immutable versions: the live one ("Open live version"), all of them, a diff, and rollback. */
import { commandMeta } from '../http';
import type { Routes } from '../routing';
import {
  diffParams,
  diffSchema,
  draftSchema,
  idParams,
  rollbackSchema,
  versionListSchema,
  versionParams,
  versionSchema,
} from '../schemas';
import type { Services } from '../services';
import { toVersion } from '../views';
import { sendDraft } from './draft';

export function versionRoutes(routes: Routes, { commands, queries }: Services): void {
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
      res.json(toVersion(await queries.live(params.id)));
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
      res.json({ items: (await queries.versions(params.id)).map(toVersion) });
    },
  });

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
      res.json(toVersion(await queries.version(params.id, params.n)));
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
      const changes = await queries.diff(params.id, params.a, params.b);
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
    responses: {
      201: { description: 'the new draft', schema: draftSchema },
      404: { description: 'no such campaign or version' },
      409: { description: 'not live/scheduled, or a draft exists' },
    },
    async handler({ params, body, req, res }) {
      const draft = await commands.rollback(params.id, body.version, commandMeta(req));
      res.status(201).location(`/v1/campaigns/${params.id}/draft`);
      sendDraft(res, draft);
    },
  });
}
