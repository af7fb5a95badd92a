/**
 * Tracking events as the read model stores them: hits on the tracking routes (written in groups, one
 * statement for every hit that arrived while the previous statement ran), one-click unsubscribes
 * (consent and event in one transaction), and bounces and complaints reported by providers (a hard
 * bounce or a complaint suppresses the address). The `tracking_events` trigger keeps the report
 * counters (see the migration 20261130001000_tracking).
 *
 * Each withdraws the profile's consent through the consent ledger (audiences/store.ts) in
 * the same transaction as its event: `profiles.subscribed = false`, which every run checks at
 * snapshot time and again per batch (recorded `excluded`, `unsubscribed`). The message an event
 * names is looked up by the store of its table (delivery/store/messages.ts,
 * triggers/store/messages.ts).
 */
import type { PrismaClient } from '../../prisma/client';
import { withdrawConsent, type Withdrawal } from '../../audiences/store';
import { runMessagesNamed } from '../../delivery/store/messages';
import { executionMessageProfile, executionMessagesNamed } from '../../triggers/store/messages';

export interface TrackingEventRow {
  campaignId: string;
  version: number;
  source: 'run' | 'execution';
  sourceId: string;
  recipient: string;
  kind: 'open' | 'click' | 'unsubscribe' | 'bounce' | 'complaint';
  link?: number;
  flag: 'human' | 'machine_open' | 'bot_click';
  reason: string | null;
  uaClass: string | null;
  /** Default: now. */
  at?: Date;
}

const INSERT = `INSERT INTO tracking_events
  (campaign_id, version, source_kind, source_id, recipient, kind, link, flag, reason, ua_class, at)
  SELECT c, v, s, i, r, k, l, f, rs, u, coalesce(a, now())
  FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[],
              $9::text[], $10::text[], $11::timestamptz[]) AS x(c, v, s, i, r, k, l, f, rs, u, a)`;

function columns(rows: TrackingEventRow[]): unknown[] {
  return [
    rows.map((e) => e.campaignId),
    rows.map((e) => e.version),
    rows.map((e) => e.source),
    rows.map((e) => e.sourceId),
    rows.map((e) => e.recipient),
    rows.map((e) => e.kind),
    rows.map((e) => e.link ?? null),
    rows.map((e) => e.flag),
    rows.map((e) => e.reason),
    rows.map((e) => e.uaClass),
    rows.map((e) => e.at?.toISOString() ?? null),
  ];
}

/** A message as a provider names it: `<campaign>:<run>:<recipient>` (the SMTP Message-ID's local part). */
/** A message as providers name it: a run's (campaign, run, profile), or an execution's (id, recipient index). */
export type MessageKey =
  | { source: 'run'; campaignId: string; run: number; recipient: string }
  | { source: 'execution'; executionId: string; recipient: number };

/** The key as text: the Message-ID's local part. */
export function keyText(k: MessageKey): string {
  return k.source === 'run' ? `${k.campaignId}:${k.run}:${k.recipient}` : `${k.executionId}:${k.recipient}`;
}

export type ProviderEvent = MessageKey & {
  kind: 'bounce' | 'complaint';
  /** Bounces: hard or soft. */
  bounce?: 'hard' | 'soft';
  at?: Date;
};

/** Most rows one statement takes. */
const GROUP = 1000;

export function trackingStore(prisma: PrismaClient) {
  type Pending = { row: TrackingEventRow; done: (error?: unknown) => void };
  let queue: Pending[] = [];
  let writing = false;

  /** Writes what is queued, group after group, until the queue is empty. */
  async function drain(): Promise<void> {
    writing = true;
    while (queue.length > 0) {
      const group = queue.slice(0, GROUP);
      queue = queue.slice(GROUP);
      try {
        await prisma.$executeRawUnsafe(INSERT, ...columns(group.map((p) => p.row)));
        for (const p of group) p.done();
      } catch (error) {
        for (const p of group) p.done(error);
      }
    }
    writing = false;
  }

  return {
    /** Records one hit; resolves once it is committed (with the hits that arrived alongside it). */
    record(row: TrackingEventRow): Promise<void> {
      return new Promise((resolve, reject) => {
        queue.push({ row, done: (error) => (error ? reject(error) : resolve()) });
        if (!writing) void drain();
      });
    },

    /**
     * One-click unsubscribe: the profile's consent off, and the event. A run's recipient is a
     * profile; an execution's recipient is its index in the call, whose message names the profile
     * (none for a message sent to an address alone).
     */
    async unsubscribe(row: TrackingEventRow): Promise<void> {
      const profileId =
        row.source === 'run'
          ? row.recipient
          : await executionMessageProfile(prisma, row.sourceId, Number(row.recipient));
      const note = `campaign ${row.campaignId}, ${row.source} ${row.sourceId}`;
      await prisma.$transaction([
        withdrawConsent(
          prisma,
          'unsubscribed',
          profileId ? [{ profileId, source: 'unsubscribe_link', note }] : [],
          'recipient',
        ),
        prisma.$executeRawUnsafe(INSERT, ...columns([row])),
      ]);
    },

    /**
     * Records bounces and complaints of run and execution messages; a hard bounce or a complaint
     * suppresses the profile (`actor`: who reported them). Returns the keys that name no message
     * (nothing is recorded for them).
     */
    async provider(events: ProviderEvent[], actor: string): Promise<MessageKey[]> {
      if (events.length === 0) return [];
      const runs = events.filter((e) => e.source === 'run');
      const executions = events.filter((e) => e.source === 'execution');
      const found = [
        ...(await runMessagesNamed(prisma, runs)),
        ...(await executionMessagesNamed(prisma, executions)),
      ];
      const messages = new Map(found.map((m) => [m.key, m]));
      const known = events.filter((e) => messages.has(keyText(e)));
      const rows: TrackingEventRow[] = known.map((e) => {
        const m = messages.get(keyText(e))!;
        return {
          campaignId: m.c,
          version: m.v,
          source: m.source,
          sourceId: m.source_id,
          recipient: m.recipient,
          kind: e.kind,
          flag: 'human',
          reason: e.kind === 'bounce' ? (e.bounce ?? 'soft') : null,
          uaClass: null,
          ...(e.at ? { at: e.at } : {}),
        };
      });
      const suppress: Withdrawal[] = known.flatMap((e) => {
        const profileId = messages.get(keyText(e))!.profile;
        if (profileId === null || (e.kind === 'bounce' && e.bounce !== 'hard')) return [];
        return [{ profileId, source: e.kind, note: `message ${keyText(e)}` }];
      });
      if (rows.length > 0) {
        await prisma.$transaction([
          withdrawConsent(prisma, 'suppressed', suppress, actor),
          prisma.$executeRawUnsafe(INSERT, ...columns(rows)),
        ]);
      }
      return events.filter((e) => !messages.has(keyText(e)));
    },
  };
}

export type TrackingStore = ReturnType<typeof trackingStore>;
