/**
 * Consent as a ledger: every change of a profile's marketing consent is a `consent_changes` row (who,
 * when, from which source); `profiles.consent` is the current status and `profiles.subscribed` (what
 * the send paths read) follows it, both written by the same statement as the row. Consent is per
 * profile and covers every channel, as the send paths apply it.
 *
 * Withdrawals come from the recipient (`unsubscribe_link`) and providers (`bounce`, `complaint`: a
 * suppression); no profile write undoes them. Only an explicit change (`POST /v1/profiles/:id/consent`)
 * sets any status, re-subscribing included.
 */
import type { PrismaClient } from '../../prisma/client';

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
