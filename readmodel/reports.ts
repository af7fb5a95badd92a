/**
 * Campaign reports, read from the pre-aggregated counters only (`report_minutes` for the live
 * report, `report_days` for the global one), never from message or event rows: one statement with
 * grouping sets gives the totals with their reasons and links, the series, and the breakdowns by
 * version, by run or execution, and by channel.
 */
import type { PrismaClient } from '../prisma/client';
import { details, rateDelta, slice, type Rates, type Sums } from './report-figures';

export type Granularity = 'minute' | 'day';

export interface ReportWindow {
  granularity: Granularity;
  /** Buckets from `from` (inclusive) to `to` (exclusive); unbounded when absent. */
  from?: Date;
  to?: Date;
}

interface Row {
  g: number;
  bucket: Date | null;
  version: number | null;
  source_kind: string | null;
  source_id: string | null;
  channel: string | null;
  metric: string;
  detail: string | null;
  n: number;
}

// GROUPING(bucket, version, source_kind, channel, detail): a 0 bit is a grouped column.
const SETS = { totals: 0b11110, series: 0b01111, version: 0b10111, source: 0b11011, channel: 0b11101 };

const sql = (table: string) => `
  SELECT GROUPING(bucket, version, source_kind, channel, detail)::int AS g, bucket, version, source_kind,
         source_id, channel, metric, detail, sum(n)::float8 AS n
    FROM ${table}
   WHERE campaign_id = $1::uuid AND bucket >= coalesce($2::timestamptz, '-infinity')
     AND bucket < coalesce($3::timestamptz, 'infinity')
   GROUP BY GROUPING SETS ((metric, detail), (bucket, metric), (version, metric),
                           (source_kind, source_id, metric), (channel, metric))`;

/** Adds `n` to the sums of `key`. */
function add<K>(map: Map<K, Sums>, key: K, metric: string, n: number) {
  let sums = map.get(key);
  if (!sums) map.set(key, (sums = {}));
  sums[metric] = (sums[metric] ?? 0) + n;
}

export function reportStore(prisma: PrismaClient) {
  return {
    async report(campaignId: string, window: ReportWindow, compare?: [number, number]) {
      const table = window.granularity === 'minute' ? 'report_minutes' : 'report_days';
      const rows = await prisma.$queryRawUnsafe<Row[]>(
        sql(table),
        campaignId,
        window.from?.toISOString() ?? null,
        window.to?.toISOString() ?? null,
      );
      const totals: Sums = {};
      const detailRows: Array<{ metric: string; detail: string; n: number }> = [];
      const series = new Map<number, Sums>();
      const versions = new Map<number, Sums>();
      const sources = new Map<string, Sums>();
      const channels = new Map<string, Sums>();
      for (const r of rows) {
        if (r.g === SETS.totals) {
          totals[r.metric] = (totals[r.metric] ?? 0) + r.n;
          detailRows.push({ metric: r.metric, detail: r.detail ?? '', n: r.n });
        } else if (r.g === SETS.series) add(series, r.bucket!.getTime(), r.metric, r.n);
        else if (r.g === SETS.version) add(versions, r.version!, r.metric, r.n);
        else if (r.g === SETS.source) add(sources, `${r.source_kind}:${r.source_id}`, r.metric, r.n);
        else if (r.g === SETS.channel) add(channels, r.channel!, r.metric, r.n);
      }
      const byVersion = [...versions]
        .sort(([a], [b]) => a - b)
        .map(([version, s]) => ({ version, ...slice(s) }));
      const bySource = [...sources]
        .map(([key, s]) => {
          const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
          return { kind: kind as 'run' | 'execution', id, ...slice(s) };
        })
        .sort((a, b) =>
          a.kind !== b.kind
            ? a.kind.localeCompare(b.kind)
            : Number(a.id) - Number(b.id) || a.id.localeCompare(b.id),
        );
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
        series: [...series]
          .sort(([a], [b]) => a - b)
          .map(([at, s]) => ({ at: new Date(at).toISOString(), ...slice(s) })),
        ...(compare ? { comparison: comparison(byVersion, compare) } : {}),
      };
    },
  };
}

type VersionSlice = { version: number; rates: Rates } & ReturnType<typeof slice>;

/** Two versions side by side, and how the second's rates differ from the first's. */
function comparison(byVersion: VersionSlice[], [a, b]: [number, number]) {
  const of = (version: number) => byVersion.find((v) => v.version === version) ?? { version, ...slice({}) };
  const [first, second] = [of(a), of(b)];
  return { versions: [first, second], rateDelta: rateDelta(first.rates, second.rates) };
}

export type ReportStore = ReturnType<typeof reportStore>;
export type Report = Awaited<ReturnType<ReportStore['report']>>;
