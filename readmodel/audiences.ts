/**
 * Profiles and audiences: who campaigns send to. The API writes and reads them here; delivery
 * snapshots an audience with its own bulk SQL (activities/delivery.ts).
 */
import { Prisma, type PrismaClient } from '../prisma/client';

export interface ProfileInput {
  id: string;
  email?: string | null;
  phone?: string | null;
  pushToken?: string | null;
  attributes: Record<string, unknown>;
  subscribed: boolean;
}

export type ProfileRow = Awaited<ReturnType<PrismaClient['profile']['findUniqueOrThrow']>>;
export type AudienceRow = Awaited<ReturnType<PrismaClient['audience']['findUniqueOrThrow']>>;

export function audienceStore(prisma: PrismaClient) {
  return {
    /** Creates or replaces profiles in one statement; returns how many rows were written. */
    upsertProfiles(p: ProfileInput[]): Promise<number> {
      return prisma.$executeRaw`
        INSERT INTO profiles (id, email, phone, push_token, attributes, subscribed, updated_at)
        SELECT * , now() FROM unnest(
          ${p.map((x) => x.id)}::text[], ${p.map((x) => x.email ?? null)}::text[],
          ${p.map((x) => x.phone ?? null)}::text[], ${p.map((x) => x.pushToken ?? null)}::text[],
          ${p.map((x) => JSON.stringify(x.attributes))}::jsonb[], ${p.map((x) => x.subscribed)}::boolean[])
        ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone,
          push_token = EXCLUDED.push_token, attributes = EXCLUDED.attributes,
          subscribed = EXCLUDED.subscribed, updated_at = now()`;
    },

    profile(id: string): Promise<ProfileRow | null> {
      return prisma.profile.findUnique({ where: { id } });
    },

    /** Which of these profile ids exist. */
    async knownProfiles(ids: string[]): Promise<Set<string>> {
      const rows = await prisma.profile.findMany({ where: { id: { in: ids } }, select: { id: true } });
      return new Set(rows.map((p) => p.id));
    },

    /** Creates an audience; false when its name is taken. */
    async createAudience(id: string, name: string, filter: object | undefined): Promise<boolean> {
      try {
        await prisma.audience.create({
          data: { id, name, filter: (filter as Prisma.InputJsonValue) ?? Prisma.DbNull },
        });
        return true;
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
        throw error;
      }
    },

    audience(id: string): Promise<AudienceRow | null> {
      return prisma.audience.findUnique({ where: { id } });
    },

    async audienceExists(id: string): Promise<boolean> {
      return (await prisma.audience.findUnique({ where: { id }, select: { id: true } })) !== null;
    },

    /** Static lists: their member count; filters: the profiles matching now. */
    async audienceSize(row: AudienceRow): Promise<number> {
      if (!row.filter) return prisma.audienceMember.count({ where: { audienceId: row.id } });
      const [{ n }] = await prisma.$queryRaw<Array<{ n: bigint }>>`
        SELECT count(*) AS n FROM profiles WHERE attributes @> ${JSON.stringify(row.filter)}::jsonb`;
      return Number(n);
    },

    /** Adds and removes members of a static list in one transaction (adding twice is a no-op). */
    async changeMembers(audienceId: string, add: string[], remove: string[]): Promise<void> {
      await prisma.$transaction([
        prisma.audienceMember.createMany({
          data: add.map((profileId) => ({ audienceId, profileId })),
          skipDuplicates: true,
        }),
        prisma.audienceMember.deleteMany({ where: { audienceId, profileId: { in: remove } } }),
      ]);
    },
  };
}

export type AudienceStore = ReturnType<typeof audienceStore>;
