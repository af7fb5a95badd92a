/** Profiles, audiences, and what campaigns sent: runs and messages. */
import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../prisma/client';
import { HttpProblem } from './problem';
import type { Routes } from './routing';
import {
  audienceMembersSchema,
  audienceSchema,
  createAudienceSchema,
  idParams,
  messageListSchema,
  messagesQuerySchema,
  profileOutSchema,
  profileParams,
  runListSchema,
  upsertProfilesResultSchema,
  upsertProfilesSchema,
} from './schemas';

export function audienceRoutes(routes: Routes, prisma: PrismaClient): void {
  async function requireCampaign(id: string): Promise<void> {
    if (!(await prisma.campaign.findUnique({ where: { id }, select: { id: true } }))) {
      throw new HttpProblem(404, 'CAMPAIGN_NOT_FOUND', `no campaign with id ${id}`);
    }
  }

  routes.add({
    method: 'put',
    path: '/v1/profiles',
    tag: 'profiles',
    summary: 'Create or replace up to 10,000 profiles',
    description: 'Unsubscribed profiles are excluded from sends (counted as excluded, reason unsubscribed).',
    permission: 'edit',
    body: upsertProfilesSchema,
    responses: { 200: { description: 'upserted', schema: upsertProfilesResultSchema } },
    async handler({ body, res }) {
      const p = body.profiles;
      const ids = new Set(p.map((x) => x.id));
      if (ids.size !== p.length) {
        throw new HttpProblem(400, 'VALIDATION_FAILED', 'profile ids must be unique within a call', [
          { field: 'profiles', message: 'profile ids must be unique within a call' },
        ]);
      }
      const upserted = await prisma.$executeRaw`
        INSERT INTO profiles (id, email, phone, push_token, attributes, subscribed, updated_at)
        SELECT * , now() FROM unnest(
          ${p.map((x) => x.id)}::text[], ${p.map((x) => x.email ?? null)}::text[],
          ${p.map((x) => x.phone ?? null)}::text[], ${p.map((x) => x.pushToken ?? null)}::text[],
          ${p.map((x) => JSON.stringify(x.attributes))}::jsonb[], ${p.map((x) => x.subscribed)}::boolean[])
        ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone,
          push_token = EXCLUDED.push_token, attributes = EXCLUDED.attributes,
          subscribed = EXCLUDED.subscribed, updated_at = now()`;
      res.json({ upserted });
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
      const row = await prisma.profile.findUnique({ where: { id: params.id } });
      if (!row) throw new HttpProblem(404, 'PROFILE_NOT_FOUND', `no profile with id ${params.id}`);
      res.json({ ...row, updatedAt: row.updatedAt.toISOString() });
    },
  });

  async function audienceOut(id: string) {
    const row = await prisma.audience.findUnique({ where: { id } });
    if (!row) throw new HttpProblem(404, 'AUDIENCE_NOT_FOUND', `no audience with id ${id}`);
    const members = row.filter
      ? Number(
          (
            await prisma.$queryRaw<Array<{ n: bigint }>>`
              SELECT count(*) AS n FROM profiles WHERE attributes @> ${JSON.stringify(row.filter)}::jsonb`
          )[0].n,
        )
      : await prisma.audienceMember.count({ where: { audienceId: id } });
    return {
      id: row.id,
      name: row.name,
      filter: row.filter as object | null,
      members,
      createdAt: row.createdAt.toISOString(),
    };
  }

  routes.add({
    method: 'post',
    path: '/v1/audiences',
    tag: 'audiences',
    summary: 'Create an audience: a static list, or a filter on profile attributes',
    permission: 'edit',
    body: createAudienceSchema,
    headers: ['Idempotency-Key'],
    responses: { 201: { description: 'created', schema: audienceSchema } },
    async handler({ body, res }) {
      const id = randomUUID();
      try {
        await prisma.audience.create({
          data: { id, name: body.name, filter: (body.filter as Prisma.InputJsonValue) ?? Prisma.DbNull },
        });
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
          throw new HttpProblem(409, 'AUDIENCE_EXISTS', `an audience named "${body.name}" exists`);
        }
        throw error;
      }
      res
        .status(201)
        .location(`/v1/audiences/${id}`)
        .json(await audienceOut(id));
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
      res.json(await audienceOut(params.id));
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
    headers: ['Idempotency-Key'],
    responses: {
      200: { description: 'the audience after the change', schema: audienceSchema },
      404: { description: 'no such audience' },
      409: { description: 'a filter audience has no member list' },
      422: { description: 'unknown profile ids (listed)' },
    },
    async handler({ params, body, res }) {
      const audience = await audienceOut(params.id);
      if (audience.filter)
        throw new HttpProblem(409, 'FILTER_AUDIENCE', 'a filter audience has no member list');
      const known = new Set(
        (await prisma.profile.findMany({ where: { id: { in: body.add } }, select: { id: true } })).map(
          (p) => p.id,
        ),
      );
      const unknown = body.add.filter((id) => !known.has(id));
      if (unknown.length) {
        throw new HttpProblem(
          422,
          'UNKNOWN_PROFILES',
          `${unknown.length} profile id(s) do not exist; upsert them first`,
          unknown.slice(0, 20).map((id) => ({ field: 'add', message: `no profile ${id}` })),
        );
      }
      await prisma.$transaction([
        prisma.audienceMember.createMany({
          data: body.add.map((profileId) => ({ audienceId: params.id, profileId })),
          skipDuplicates: true,
        }),
        prisma.audienceMember.deleteMany({
          where: { audienceId: params.id, profileId: { in: body.remove } },
        }),
      ]);
      res.json(await audienceOut(params.id));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/runs',
    tag: 'delivery',
    summary: 'Runs of a campaign, with message counts by status',
    permission: 'read',
    params: idParams,
    responses: {
      200: { description: 'runs, oldest first', schema: runListSchema },
      404: { description: 'no such campaign' },
    },
    async handler({ params, res }) {
      await requireCampaign(params.id);
      const [runs, counts] = await Promise.all([
        prisma.campaignRun.findMany({ where: { campaignId: params.id }, orderBy: { number: 'asc' } }),
        prisma.message.groupBy({
          by: ['runNumber', 'status'],
          where: { campaignId: params.id },
          _count: true,
        }),
      ]);
      res.json({
        items: runs.map((r) => ({
          number: r.number,
          version: r.version,
          status: r.status,
          startedAt: r.startedAt.toISOString(),
          finishedAt: r.finishedAt?.toISOString() ?? null,
          recipients: r.recipients,
          counts: Object.fromEntries(
            counts.filter((c) => c.runNumber === r.number).map((c) => [c.status, c._count]),
          ),
        })),
      });
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/messages',
    tag: 'delivery',
    summary: 'Messages of a campaign (the outbox): one per recipient and run, with its version',
    permission: 'read',
    params: idParams,
    query: messagesQuerySchema,
    responses: {
      200: { description: 'a page of messages', schema: messageListSchema },
      404: { description: 'no such campaign' },
    },
    async handler({ params, query, res }) {
      await requireCampaign(params.id);
      let after: { runNumber: number; profileId: string } | undefined;
      if (query.cursor) {
        const [run, ...rest] = Buffer.from(query.cursor, 'base64url').toString().split('|');
        if (!run || !rest.length || Number.isNaN(Number(run))) {
          throw new HttpProblem(400, 'VALIDATION_FAILED', 'cursor is not one this API returned', [
            { field: 'cursor', message: 'is not one this API returned' },
          ]);
        }
        after = { runNumber: Number(run), profileId: rest.join('|') };
      }
      const rows = await prisma.message.findMany({
        where: {
          campaignId: params.id,
          ...(query.run ? { runNumber: query.run } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(after
            ? {
                OR: [
                  { runNumber: { gt: after.runNumber } },
                  { runNumber: after.runNumber, profileId: { gt: after.profileId } },
                ],
              }
            : {}),
        },
        orderBy: [{ runNumber: 'asc' }, { profileId: 'asc' }],
        take: query.limit + 1,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      res.json({
        items: page.map((m) => ({
          run: m.runNumber,
          profileId: m.profileId,
          version: m.version,
          status: m.status,
          reason: m.reason,
          rendered: m.rendered as Record<string, string> | null,
          createdAt: m.createdAt.toISOString(),
          sentAt: m.sentAt?.toISOString() ?? null,
        })),
        nextCursor:
          rows.length > query.limit && last
            ? Buffer.from(`${last.runNumber}|${last.profileId}`).toString('base64url')
            : null,
      });
    },
  });
}
