/** Audiences: a static list of profiles, or a filter on their attributes. */
import { randomUUID } from 'node:crypto';
import { HttpProblem } from '../../api/problem';
import type { Routes } from '../../api/routing';
import { audienceMembersSchema, audienceSchema, createAudienceSchema, idParams } from '../../api/schemas';
import type { Services } from '../../api/services';
import { toAudience } from '../../api/views';

export function audienceRoutes(routes: Routes, { audiences }: Services): void {
  /** The audience with its current size, or 404. */
  async function audienceView(id: string) {
    const row = await audiences.audience(id);
    if (!row) throw new HttpProblem(404, 'AUDIENCE_NOT_FOUND', `no audience with id ${id}`);
    return toAudience(row, await audiences.audienceSize(row));
  }

  routes.add({
    method: 'post',
    path: '/v1/audiences',
    tag: 'audiences',
    summary: 'Create an audience: a static list, or a filter on profile attributes',
    permission: 'edit',
    body: createAudienceSchema,
    responses: { 201: { description: 'created', schema: audienceSchema } },
    async handler({ body, res }) {
      const id = randomUUID();
      if (!(await audiences.createAudience(id, body.name, body.filter))) {
        throw new HttpProblem(409, 'AUDIENCE_EXISTS', `an audience named "${body.name}" exists`);
      }
      res
        .status(201)
        .location(`/v1/audiences/${id}`)
        .json(await audienceView(id));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/audiences/:id',
    tag: 'audiences',
    summary: 'Get an audience and its size',
    permission: 'read',
    params: idParams,
    responses: {
      200: { description: 'the audience', schema: audienceSchema },
      404: { description: 'no such audience' },
    },
    async handler({ params, res }) {
      res.json(await audienceView(params.id));
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/audiences/:id/members',
    tag: 'audiences',
    summary: 'Add and remove members of a static audience (up to 10,000 each)',
    permission: 'edit',
    params: idParams,
    body: audienceMembersSchema,
    responses: {
      200: { description: 'the audience after the change', schema: audienceSchema },
      404: { description: 'no such audience' },
      409: { description: 'a filter audience has no member list' },
      422: { description: 'unknown profile ids (listed)' },
    },
    async handler({ params, body, res }) {
      if ((await audienceView(params.id)).filter) {
        throw new HttpProblem(409, 'FILTER_AUDIENCE', 'a filter audience has no member list');
      }
      const known = await audiences.knownProfiles(body.add);
      const unknown = body.add.filter((id) => !known.has(id));
      if (unknown.length) {
        throw new HttpProblem(
          422,
          'UNKNOWN_PROFILES',
          `${unknown.length} profile id(s) do not exist; upsert them first`,
          unknown.slice(0, 20).map((id) => ({ field: 'add', message: `no profile ${id}` })),
        );
      }
      await audiences.changeMembers(params.id, body.add, body.remove);
      res.json(await audienceView(params.id));
    },
  });
}
