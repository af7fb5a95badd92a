/**
 * Profiles and audiences: who campaigns send to. The API writes and reads them here; delivery
 * snapshots an audience with its own bulk SQL (delivery/store/runs.ts).
 */
import { Prisma, type PrismaClient } from '../../prisma/client';

export interface ProfileInput {
  id: string;
  email?: string | null;
  phone?: string | null;
  pushToken?: string | null;
  attributes: Record<string, unknown>;
  /** Absent: consent unchanged (a new profile is subscribed). */
  subscribed?: boolean;
}

export type ProfileRow = Awaited<ReturnType<PrismaClient['profile']['findUniqueOrThrow']>>;
export type AudienceRow = Awaited<ReturnType<PrismaClient['audience']['findUniqueOrThrow']>>;

/**
 * Creates or replaces profiles in one statement. Consent (./consent.ts) follows the rule of
 * a profile write: a new profile starts subscribed, or unsubscribed with `subscribed: false`, recorded
 * as created; on an existing one, `subscribed: false` unsubscribes a subscribed profile (recorded),
 * and nothing else changes consent: `subscribed: true` on a profile that is not subscribed is kept
 * (its id returned in `consentKept`), and no `subscribed` leaves consent alone.
 */
const UPSERT = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::boolean[])
      AS x(id, email, phone, push_token, attributes, sub)
  ), before AS (
    SELECT p.id, p.consent FROM profiles p JOIN input USING (id)
  ), written AS (
    INSERT INTO profiles (id, email, phone, push_token, attributes, subscribed, consent, updated_at)
    SELECT id, email, phone, push_token, attributes, sub IS NOT FALSE,
           CASE WHEN sub IS FALSE THEN 'unsubscribed' ELSE 'subscribed' END, now()
      FROM input
    ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone,
      push_token = EXCLUDED.push_token, attributes = EXCLUDED.attributes,
      consent = CASE WHEN EXCLUDED.consent = 'unsubscribed' AND profiles.consent = 'subscribed'
                     THEN 'unsubscribed' ELSE profiles.consent END,
      subscribed = profiles.consent = 'subscribed' AND EXCLUDED.consent = 'subscribed', updated_at = now()
    RETURNING id, consent, (xmax = 0) AS created
  ), ledger AS (
    INSERT INTO consent_changes (profile_id, status, source, actor, note)
    SELECT w.id, w.consent, 'api', $7, CASE WHEN w.created THEN 'profile created' ELSE 'PUT /v1/profiles' END
      FROM written w LEFT JOIN before b USING (id)
     WHERE w.created OR b.consent IS DISTINCT FROM w.consent
  )
  SELECT (SELECT count(*) FROM written)::int AS upserted,
         coalesce((SELECT array_agg(i.id ORDER BY i.id) FROM input i JOIN written w USING (id)
                    WHERE i.sub AND w.consent <> 'subscribed'), '{}') AS kept`;

export function audienceStore(prisma: PrismaClient) {
  return {
    /**
     * Creates or replaces profiles (see UPSERT), `actor` recorded on the consent they set. Returns
     * how many were written and the ids whose `subscribed: true` was not applied.
     */
    async upsertProfiles(
      p: ProfileInput[],
      actor: string,
    ): Promise<{ upserted: number; consentKept: string[] }> {
      const [row] = await prisma.$queryRawUnsafe<Array<{ upserted: number; kept: string[] }>>(
        UPSERT,
        p.map((x) => x.id),
        p.map((x) => x.email ?? null),
        p.map((x) => x.phone ?? null),
        p.map((x) => x.pushToken ?? null),
        p.map((x) => JSON.stringify(x.attributes)),
        p.map((x) => x.subscribed ?? null),
        actor,
      );
      return { upserted: row.upserted, consentKept: row.kept };
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
