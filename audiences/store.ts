/**
 * Profiles, audiences and consent: who campaigns send to, and whether they may. The API writes and
 * reads them here; delivery snapshots an audience with its own bulk SQL (delivery/store/runs.ts).
 *
 * Consent as a ledger: every change of a profile's marketing consent is a `consent_changes` row (who,
 * when, from which source); `profiles.consent` is the current status and `profiles.subscribed` (what
 * the send paths read) follows it, both written by the same statement as the row. Consent is per
 * profile and covers every channel, as the send paths apply it.
 *
 * Withdrawals come from the recipient (`unsubscribe_link`) and providers (`bounce`, `complaint`: a
 * suppression); no profile write undoes them. Only an explicit change (`POST /v1/profiles/:id/consent`)
 * sets any status, re-subscribing included.
 */
import { Prisma, type PrismaClient } from '../prisma/client';

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
 * Creates or replaces profiles in one statement. Consent (below) follows the rule of
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

export const CONSENT_STATUSES = ['subscribed', 'unsubscribed', 'suppressed'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];
/** Sources an API caller may name for an explicit change. */
export const EXPLICIT_CONSENT_SOURCES = ['api', 'import', 'form'] as const;
export type ConsentSource =
  (typeof EXPLICIT_CONSENT_SOURCES)[number] | 'unsubscribe_link' | 'bounce' | 'complaint' | 'migration';

export interface ConsentChangeRow {
  id: bigint;
  profileId: string;
  status: ConsentStatus;
  source: ConsentSource;
  actor: string;
  note: string | null;
  at: Date;
}

/** A withdrawal of one profile's consent, and why. */
export interface Withdrawal {
  profileId: string;
  source: 'unsubscribe_link' | 'bounce' | 'complaint';
  note: string | null;
}

const COLUMNS = `id, profile_id AS "profileId", status, source, actor, note, at`;

/**
 * One statement: each profile whose consent is one of `$5` moves to `$4` (not subscribed), with a
 * ledger row per profile changed (a profile named twice: the greater source, complaint over bounce).
 */
const WITHDRAW = `
  WITH req AS (
    SELECT DISTINCT ON (p) p, s, n FROM unnest($1::text[], $2::text[], $3::text[]) AS x(p, s, n)
     ORDER BY p, s DESC
  ), changed AS (
    UPDATE profiles SET consent = $4, subscribed = false, updated_at = now()
      FROM req WHERE profiles.id = req.p AND profiles.consent = ANY($5::text[])
    RETURNING profiles.id, req.s, req.n
  )
  INSERT INTO consent_changes (profile_id, status, source, actor, note)
  SELECT id, $4, s, $6, n FROM changed`;

/**
 * The statement that withdraws consent, to run alone or in a `$transaction` with the events it comes
 * with: an unsubscribe moves subscribed profiles to `unsubscribed`; a bounce or a complaint moves any
 * profile not yet suppressed to `suppressed`. `actor`: who reported it.
 */
export function withdrawConsent(
  prisma: PrismaClient,
  status: 'unsubscribed' | 'suppressed',
  withdrawals: Withdrawal[],
  actor: string,
) {
  const from = status === 'unsubscribed' ? ['subscribed'] : ['subscribed', 'unsubscribed'];
  return prisma.$executeRawUnsafe(
    WITHDRAW,
    withdrawals.map((w) => w.profileId),
    withdrawals.map((w) => w.source),
    withdrawals.map((w) => w.note),
    status,
    from,
    actor,
  );
}

export function consentStore(prisma: PrismaClient) {
  return {
    /**
     * An explicit change: sets the profile's consent to `status` and records it (recorded even when
     * the status is already that: a confirmation is part of the history). Null: no such profile.
     */
    async change(
      profileId: string,
      change: { status: ConsentStatus; source: ConsentSource; actor: string; note: string | null },
    ): Promise<ConsentChangeRow | null> {
      const rows = await prisma.$queryRawUnsafe<ConsentChangeRow[]>(
        `WITH changed AS (
           UPDATE profiles SET consent = $2, subscribed = ($2 = 'subscribed'), updated_at = now()
            WHERE id = $1 RETURNING id)
         INSERT INTO consent_changes (profile_id, status, source, actor, note)
         SELECT id, $2, $3, $4, $5 FROM changed RETURNING ${COLUMNS}`,
        profileId,
        change.status,
        change.source,
        change.actor,
        change.note,
      );
      return rows[0] ?? null;
    },

    /** A profile's changes, newest first: at most `limit`, older than change `before` when given. */
    history(profileId: string, limit: number, before?: bigint): Promise<ConsentChangeRow[]> {
      return prisma.$queryRawUnsafe<ConsentChangeRow[]>(
        `SELECT ${COLUMNS} FROM consent_changes
          WHERE profile_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
          ORDER BY id DESC LIMIT $3`,
        profileId,
        before ?? null,
        limit,
      );
    },
  };
}

export type ConsentStore = ReturnType<typeof consentStore>;
