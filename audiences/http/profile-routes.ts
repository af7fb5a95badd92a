/** Profiles: the people campaigns send to, with their addresses, attributes and consent. */
import { actorOf } from '../../api/http';
import { HttpProblem, invalidField } from '../../api/problem';
import type { Routes } from '../../api/routing';
import {
  consentChangeOutSchema,
  consentChangeSchema,
  consentHistoryQuery,
  consentHistorySchema,
  profileOutSchema,
  profileParams,
  upsertProfilesResultSchema,
  upsertProfilesSchema,
} from '../../api/schemas';
import type { Services } from '../../api/services';
import { toConsentChange, toProfile } from '../../api/views';

const notFound = (id: string) => new HttpProblem(404, 'PROFILE_NOT_FOUND', `no profile with id ${id}`);

export function profileRoutes(routes: Routes, { audiences, consent }: Services): void {
  routes.add({
    method: 'put',
    path: '/v1/profiles',
    tag: 'profiles',
    summary: 'Create or replace up to 10,000 profiles',
    description:
      'Profiles that are not subscribed are excluded from sends (counted as excluded, reason ' +
      'unsubscribed). A profile write never undoes an unsubscribe, a hard bounce or a complaint: ' +
      '`subscribed: true` on such a profile is not applied (the rest of the profile is) and its id is ' +
      'returned in `consentKept`; re-subscribing is an explicit consent change.',
    permission: 'edit',
    body: upsertProfilesSchema,
    responses: { 200: { description: 'upserted', schema: upsertProfilesResultSchema } },
    async handler({ body: { profiles }, req, res }) {
      if (new Set(profiles.map((p) => p.id)).size !== profiles.length) {
        throw invalidField('profiles', 'profile ids must be unique within a call');
      }
      res.json(await audiences.upsertProfiles(profiles, actorOf(req)));
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
      if (!row) throw notFound(params.id);
      res.json(toProfile(row));
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/profiles/:id/consent',
    tag: 'profiles',
    summary: 'Change a profile’s consent explicitly (re-subscribing included), recorded with who and why',
    description:
      'Sets the profile’s consent (every channel) to `status` and records the change with the calling ' +
      'key’s name as actor, the time, the `source` and the `note`. The only way to re-subscribe a ' +
      'profile that unsubscribed or is suppressed.',
    permission: 'edit',
    params: profileParams,
    body: consentChangeSchema,
    responses: {
      201: { description: 'the change recorded', schema: consentChangeOutSchema },
      404: { description: 'no such profile' },
    },
    async handler({ params, body, req, res }) {
      const row = await consent.change(params.id, {
        status: body.status,
        source: body.source,
        actor: actorOf(req),
        note: body.note ?? null,
      });
      if (!row) throw notFound(params.id);
      res.status(201).json(toConsentChange(row));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/profiles/:id/consent',
    tag: 'profiles',
    summary: 'A profile’s consent and its history (who, when, from which source), newest first',
    permission: 'read',
    params: profileParams,
    query: consentHistoryQuery,
    responses: {
      200: { description: 'the current consent and its changes', schema: consentHistorySchema },
      404: { description: 'no such profile' },
    },
    async handler({ params, query, res }) {
      const profile = await audiences.profile(params.id);
      if (!profile) throw notFound(params.id);
      const changes = await consent.history(
        params.id,
        query.limit,
        query.before === undefined ? undefined : BigInt(query.before),
      );
      res.json({ profileId: profile.id, consent: profile.consent, changes: changes.map(toConsentChange) });
    },
  });
}
