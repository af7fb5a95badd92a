/** Profiles: the people campaigns send to, with their addresses, attributes and consent. */
import { HttpProblem, invalidField } from '../problem';
import type { Routes } from '../routing';
import {
  profileOutSchema,
  profileParams,
  upsertProfilesResultSchema,
  upsertProfilesSchema,
} from '../schemas';
import type { Services } from '../services';
import { toProfile } from '../views';

export function profileRoutes(routes: Routes, { audiences }: Services): void {
  routes.add({
    method: 'put',
    path: '/v1/profiles',
    tag: 'profiles',
    summary: 'Create or replace up to 10,000 profiles',
    description: 'Unsubscribed profiles are excluded from sends (counted as excluded, reason unsubscribed).',
    permission: 'edit',
    body: upsertProfilesSchema,
    responses: { 200: { description: 'upserted', schema: upsertProfilesResultSchema } },
    async handler({ body: { profiles }, res }) {
      if (new Set(profiles.map((p) => p.id)).size !== profiles.length) {
        throw invalidField('profiles', 'profile ids must be unique within a call');
      }
      res.json({ upserted: await audiences.upsertProfiles(profiles) });
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/profiles/:id',
    tag: 'profiles',
    summary: 'Get a profile',
    permission: 'read',
    params: profileParams,
    responses: {
      200: { description: 'the profile', schema: profileOutSchema },
      404: { description: 'no such profile' },
    },
    async handler({ params, res }) {
      const row = await audiences.profile(params.id);
      if (!row) throw new HttpProblem(404, 'PROFILE_NOT_FOUND', `no profile with id ${params.id}`);
      res.json(toProfile(row));
    },
  });
}
