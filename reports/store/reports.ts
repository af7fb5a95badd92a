/**
 * Campaign reports, read from the pre-aggregated counters only (`report_hours`, `report_minutes`
 * and `report_series` for the live report, `report_days` for the global one), never from message or
 * event rows: one statement with
 * grouping sets gives the totals with their reasons and links and the breakdowns by version, by run
 * or execution, and by channel; another the series. The breakdown by run or execution is capped in
 * that statement: the MAX_SOURCES largest by volume (message rows), and one `others` row summing the
 * rest, so a campaign with 100k executions a day still reads and sends a small report.
 */
import type { PrismaClient } from '../../prisma/client';
import { details, figures, MAX_SOURCES, rateDelta, slice, STATUSES, type Rates, type Sums } from '../figures';

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
