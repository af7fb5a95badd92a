/**
 * The report's query and shape (live and global, JSON or CSV): pure zod, no server-only import, so the
 * web console can take its types from here.
 */
import { z } from 'zod';
import { MAX_SOURCES } from '../figures';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const date = (what: string) =>
  z
    .string()
    .regex(DATE, 'must be a date YYYY-MM-DD')
    .refine((s) => {
      const d = new Date(`${s}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
    }, 'must be a real calendar date')
    .meta({ description: `${what} (UTC day, inclusive)`, format: 'date' });

/** `compare=a,b`: two different version numbers. */
const compare = z
  .string()
  .regex(/^[1-9]\d{0,8},[1-9]\d{0,8}$/, 'must be two version numbers, e.g. 1,2')
  .transform((s) => s.split(',').map(Number) as [number, number])
  .meta({ description: 'two versions to compare, e.g. `1,2`' });

export const liveReportQuerySchema = z.strictObject({ compare: compare.optional() });
export const globalReportQuerySchema = z.strictObject({
  from: date('first day').optional(),
  to: date('last day').optional(),
  compare: compare.optional(),
});

const rate = z.number().nullable();
const ratesSchema = z
  .object({ delivery: rate, uniqueOpen: rate, uniqueClick: rate, clickToOpen: rate })
  .meta({
    id: 'ReportRates',
    description: 'delivered/sent, unique opens and clicks per delivered, clicks per open',
  });
export const count = z.number().int();
const figuresSchema = z
  .object({
    targeted: count,
    excluded: count,
    cancelled: count,
    sent: count,
    delivered: count,
    failed: count,
    bouncedHard: count,
    bouncedSoft: count,
    opened: count,
    uniqueOpened: count,
    machineOpened: count,
    clicked: count,
    uniqueClicked: count,
    botClicked: count,
    unsubscribed: count,
    complained: count,
  })
  .meta({ id: 'ReportFigures', description: 'people only, unless named machine or bot' });
const sliceShape = { figures: figuresSchema, rates: ratesSchema };
const byReason = z.record(z.string(), count);
const versionSlice = z.object({ version: count, ...sliceShape }).meta({ id: 'ReportVersion' });

export const reportSchema = z
  .object({
    campaignId: z.uuid(),
    granularity: z.enum(['minute', 'day']),
    from: z.string().nullable(),
    to: z.string().nullable(),
    ...sliceShape,
    reasons: z.object({
      excluded: byReason,
      failed: byReason,
      machineOpened: byReason,
      botClicked: byReason,
    }),
    links: z.array(z.object({ link: count, clicked: count, uniqueClicked: count })),
    byVersion: z.array(versionSlice),
    bySource: z
      .array(
        z.object({
          kind: z.enum(['run', 'execution', 'others']),
          id: z.string().meta({ description: 'the run number or execution id; empty for `others`' }),
          sources: count.optional().meta({ description: '`others` only: how many runs/executions it sums' }),
          ...sliceShape,
        }),
      )
      .max(MAX_SOURCES + 1)
      .meta({
        description:
          `the ${MAX_SOURCES} runs/executions with the most messages in the period (in run/execution order), ` +
          'then, when there are more, one `others` row summing the rest: the rows add up to the totals',
      }),
    byChannel: z.array(z.object({ channel: z.string(), ...sliceShape })),
    series: z.array(z.object({ at: z.string(), figures: figuresSchema })).meta({
      description: 'figures per bucket (minute or UTC day); buckets without activity are left out',
    }),
    comparison: z
      .object({ versions: z.array(versionSlice), rateDelta: ratesSchema })
      .optional()
      .meta({ description: 'with `compare=a,b`: both versions, and b’s rates minus a’s' }),
  })
  .meta({ id: 'Report' });

export const csvSchema = z.string().meta({
  description: 'with `Accept: text/csv`: one row per figure, columns section, key, at, figure, value',
});
