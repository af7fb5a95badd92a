/**
 * The tracking and report tables: every statement on them.
 *
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
 *
 * Campaign reports, read from the pre-aggregated counters only (`report_hours`, `report_minutes`
 * and `report_series` for the live report, `report_days` for the global one), never from message or
 * event rows: one statement with
 * grouping sets gives the totals with their reasons and links and the breakdowns by version, by run
 * or execution, and by channel; another the series. The breakdown by run or execution is capped in
 * that statement: the MAX_SOURCES largest by volume (message rows), and one `others` row summing the
 * rest, so a campaign with 100k executions a day still reads and sends a small report.
 */
import type { PrismaClient } from '../prisma/client';
import { withdrawConsent, type Withdrawal } from '../audiences/store';
import { runMessagesNamed } from '../delivery/store/messages';
import { executionMessageProfile, executionMessagesNamed } from '../triggers/store/messages';
import { details, figures, MAX_SOURCES, rateDelta, slice, STATUSES, type Rates, type Sums } from './figures';

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

export type Granularity = 'minute' | 'day';

export interface ReportWindow {
  granularity: Granularity;
  /** Buckets from `from` (inclusive) to `to` (exclusive); unbounded when absent. */
  from?: Date;
  to?: Date;
}

interface Row {
  g: number;
  version: number | null;
  source_kind: string | null;
  source_id: string | null;
  channel: string | null;
  metric: string;
  detail: string | null;
  n: number;
}

// GROUPING(version, source_kind, channel, detail): a 0 bit is a grouped column.
const SETS = { totals: 0b1110, version: 0b0111, source: 0b1011, channel: 0b1101 };

const HOUR_MS = 3_600_000;

const VOLUME = `metric IN (${STATUSES.map((status) => `'${status}'`).join(', ')})`;

/**
 * Totals with their details, and the breakdowns, over counter rows `rows`: one pass, grouping sets.
 * Sources beyond the MAX_SOURCES largest come back as one row of kind `others`, its source_id the
 * number of sources it sums.
 */
const breakdowns = (rows: string) => `
  WITH b AS (
    SELECT GROUPING(version, source_kind, channel, detail)::int AS g, version, source_kind, source_id, channel,
           metric, detail, sum(n)::float8 AS n
      FROM (${rows}) c
     GROUP BY GROUPING SETS ((metric, detail), (version, metric), (source_kind, source_id, metric), (channel, metric))
  ), ranked AS (
    -- Each source's rows with its rank by volume (message rows), largest first; ties by kind and id.
    SELECT *, dense_rank() OVER (ORDER BY volume DESC, source_kind, source_id) AS rank
      FROM (SELECT *, coalesce(sum(n) FILTER (WHERE ${VOLUME}) OVER (PARTITION BY source_kind, source_id), 0) AS volume
              FROM b WHERE g = ${SETS.source}) s
  )
  SELECT g, version, source_kind, source_id, channel, metric, detail, n FROM b WHERE g <> ${SETS.source}
  UNION ALL
  SELECT g, version, source_kind, source_id, channel, metric, detail, n FROM ranked WHERE rank <= ${MAX_SOURCES}
  UNION ALL
  SELECT ${SETS.source}, NULL, 'others', ((SELECT max(rank) FROM ranked) - ${MAX_SOURCES})::text, NULL, metric, NULL,
         sum(n)
    FROM ranked WHERE rank > ${MAX_SOURCES} GROUP BY metric`;

const COLUMNS = 'version, source_kind, source_id, channel, metric, detail, n';

/**
 * The statements of a window. Live (minutes): the breakdowns read the hour counters for the whole
 * hours of the window and the minute counters for its two partial hours; the series reads
 * `report_series` (one row per minute). Global (days): both read the day counters.
 */
function statements(window: ReportWindow): { breakdowns: string; series: string; args: unknown[] } {
  const iso = (d: Date | undefined) => d?.toISOString() ?? null;
  if (window.granularity === 'minute' && window.from && window.to) {
    const hoursFrom = new Date(Math.ceil(window.from.getTime() / HOUR_MS) * HOUR_MS);
    const hoursTo = new Date(
      Math.max(hoursFrom.getTime(), Math.floor(window.to.getTime() / HOUR_MS) * HOUR_MS),
    );
    return {
      breakdowns: breakdowns(`
        SELECT ${COLUMNS} FROM report_hours WHERE campaign_id = $1::uuid AND bucket >= $4 AND bucket < $5
        UNION ALL
        SELECT ${COLUMNS} FROM report_minutes WHERE campaign_id = $1::uuid
           AND ((bucket >= $2 AND bucket < $4) OR (bucket >= $5 AND bucket < $3))`),
      series: `SELECT bucket, sums FROM report_series
                WHERE campaign_id = $1::uuid AND bucket >= $2 AND bucket < $3 AND $4::timestamptz IS NOT NULL
                  AND $5::timestamptz IS NOT NULL ORDER BY bucket`,
      args: [iso(window.from), iso(window.to), iso(hoursFrom), iso(hoursTo)],
    };
  }
  const where = `campaign_id = $1::uuid AND bucket >= coalesce($2::timestamptz, '-infinity')
                 AND bucket < coalesce($3::timestamptz, 'infinity')`;
  return {
    breakdowns: breakdowns(`SELECT ${COLUMNS} FROM report_days WHERE ${where}`),
    series: `SELECT bucket, jsonb_object_agg(metric, n) AS sums
               FROM (SELECT bucket, metric, sum(n)::float8 AS n FROM report_days WHERE ${where}
                      GROUP BY bucket, metric) x
              GROUP BY bucket ORDER BY bucket`,
    args: [iso(window.from), iso(window.to)],
  };
}

/** Adds `n` to the sums of `key`. */
function add<K>(map: Map<K, Sums>, key: K, metric: string, n: number) {
  let sums = map.get(key);
  if (!sums) map.set(key, (sums = {}));
  sums[metric] = (sums[metric] ?? 0) + n;
}

export function reportStore(prisma: PrismaClient) {
  return {
    /** One version's headline figures, all time, from the day counters (operators' card). */
    async headline(campaignId: string, version: number) {
      const rows = await prisma.$queryRaw<Array<{ metric: string; n: number }>>`
        SELECT metric, sum(n)::int AS n FROM report_days
         WHERE campaign_id = ${campaignId}::uuid AND version = ${version} GROUP BY metric`;
      const f = figures(Object.fromEntries(rows.map((r) => [r.metric, r.n])));
      return {
        sent: f.sent,
        delivered: f.delivered,
        uniqueOpened: f.uniqueOpened,
        uniqueClicked: f.uniqueClicked,
      };
    },

    async report(campaignId: string, window: ReportWindow, compare?: [number, number]) {
      const { breakdowns: b, series, args } = statements(window);
      // Two statements on two connections at once: the breakdowns, and the series.
      const [rows, points] = await Promise.all([
        prisma.$queryRawUnsafe<Row[]>(b, campaignId, ...args),
        prisma.$queryRawUnsafe<Array<{ bucket: Date; sums: Sums }>>(series, campaignId, ...args),
      ]);
      const totals: Sums = {};
      const detailRows: Array<{ metric: string; detail: string; n: number }> = [];
      const versions = new Map<number, Sums>();
      const sources = new Map<string, Sums>();
      let others: { sources: number; sums: Sums } | undefined;
      const channels = new Map<string, Sums>();
      for (const r of rows) {
        if (r.g === SETS.totals) {
          totals[r.metric] = (totals[r.metric] ?? 0) + r.n;
          detailRows.push({ metric: r.metric, detail: r.detail ?? '', n: r.n });
        } else if (r.g === SETS.version) add(versions, r.version!, r.metric, r.n);
        else if (r.g === SETS.source && r.source_kind === 'others') {
          others ??= { sources: Number(r.source_id), sums: {} };
          others.sums[r.metric] = r.n;
        } else if (r.g === SETS.source) add(sources, `${r.source_kind}:${r.source_id}`, r.metric, r.n);
        else if (r.g === SETS.channel) add(channels, r.channel!, r.metric, r.n);
      }
      const byVersion = [...versions]
        .sort(([a], [b]) => a - b)
        .map(([version, s]) => ({ version, ...slice(s) }));
      const bySource: SourceSlice[] = [...sources]
        .map(([key, s]) => {
          const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
          return { kind: kind as 'run' | 'execution', id, ...slice(s) };
        })
        .sort((a, b) =>
          a.kind !== b.kind
            ? a.kind.localeCompare(b.kind)
            : Number(a.id) - Number(b.id) || a.id.localeCompare(b.id),
        );
      if (others) bySource.push({ kind: 'others', id: '', sources: others.sources, ...slice(others.sums) });
      const byChannel = [...channels].sort().map(([channel, s]) => ({ channel, ...slice(s) }));
      return {
        campaignId,
        granularity: window.granularity,
        from: window.from?.toISOString() ?? null,
        to: window.to?.toISOString() ?? null,
        ...slice(totals),
        ...details(detailRows),
        byVersion,
        bySource,
        byChannel,
        series: points.map((p) => ({ at: p.bucket.toISOString(), figures: figures(p.sums) })),
        ...(compare ? { comparison: comparison(byVersion, compare) } : {}),
      };
    },
  };
}

type VersionSlice = { version: number; rates: Rates } & ReturnType<typeof slice>;
/** A run or execution; or `others`: the `sources` beyond the MAX_SOURCES largest, summed. */
type SourceSlice = { kind: 'run' | 'execution' | 'others'; id: string; sources?: number } & ReturnType<
  typeof slice
>;

/** Two versions side by side, and how the second's rates differ from the first's. */
function comparison(byVersion: VersionSlice[], [a, b]: [number, number]) {
  const of = (version: number) => byVersion.find((v) => v.version === version) ?? { version, ...slice({}) };
  const [first, second] = [of(a), of(b)];
  return { versions: [first, second], rateDelta: rateDelta(first.rates, second.rates) };
}

export type ReportStore = ReturnType<typeof reportStore>;
export type Report = Awaited<ReturnType<ReportStore['report']>>;
