/**
 * Reports (live: the last 24 hours per minute; global: all time or a range, per day), in JSON or CSV,
 * and the provider events (bounces, complaints) that feed them.
 */
import type { Request } from 'express';
import { keyText, type MessageKey, type Report } from '../store';
import { actorOf } from '../../api/http';
import { invalidField } from '../../api/problem';
import { reportCsv } from '../csv';
import type { Routes } from '../../api/routing';
import {
  csvSchema,
  globalReportQuerySchema,
  idParams,
  liveReportQuerySchema,
  providerEventsResultSchema,
  providerEventsSchema,
  reportSchema,
  MESSAGE_ID,
} from '../../api/schemas';
import type { Services } from '../../api/services';

const DAY_MS = 86_400_000;

const REPORT_RESPONSES = {
  200: { description: 'the report', schema: reportSchema, alternatives: { 'text/csv': csvSchema } },
  404: { description: 'no such campaign' },
};

function send(req: Request, res: import('express').Response, report: Report) {
  if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
    res.type('text/csv').send(reportCsv(report));
  } else res.json(report);
}

function messageKey(id: string, field: string): MessageKey {
  const m = MESSAGE_ID.exec(id);
  // The schema checked the form already; kept so a key is never built from anything else.
  if (!m) throw invalidField(field, 'must be <campaign id>:<run>:<recipient> or <execution id>:<recipient>');
  return m[3] === undefined
    ? { source: 'execution', executionId: m[1].toLowerCase(), recipient: Number(m[2]) }
    : { source: 'run', campaignId: m[1].toLowerCase(), run: Number(m[2]), recipient: m[3] };
}

export function reportRoutes(routes: Routes, { queries, reports, tracking }: Services): void {
  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/report/live',
    tag: 'reports',
    summary: 'Live report: the last 24 hours, per minute (JSON, or CSV with Accept: text/csv)',
    description:
      'Totals, rates, reasons, links, and breakdowns by version, run/execution and channel over the ' +
      'last 24 hours; a per-minute series (minutes without activity are left out). People only unless ' +
      'named machine/bot. `compare=a,b` adds two versions side by side. Events show within seconds.',
    permission: 'read',
    params: idParams,
    query: liveReportQuerySchema,
    responses: REPORT_RESPONSES,
    async handler({ params, query, req, res }) {
      await queries.campaign(params.id);
      const to = new Date(Math.ceil((Date.now() + 1) / 60_000) * 60_000);
      const from = new Date(to.getTime() - DAY_MS);
      send(req, res, await reports.report(params.id, { granularity: 'minute', from, to }, query.compare));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/report/global',
    tag: 'reports',
    summary: 'Global report: all time, or the UTC days from `from` to `to`, per day (JSON or CSV)',
    description:
      'The same figures as the live report, over days; a stopped campaign’s report stays readable.',
    permission: 'read',
    params: idParams,
    query: globalReportQuerySchema,
    responses: REPORT_RESPONSES,
    async handler({ params, query, req, res }) {
      const from = query.from ? new Date(`${query.from}T00:00:00Z`) : undefined;
      const to = query.to ? new Date(Date.parse(`${query.to}T00:00:00Z`) + DAY_MS) : undefined;
      if (from && to && to <= from) throw invalidField('to', 'must not be before from');
      await queries.campaign(params.id);
      send(req, res, await reports.report(params.id, { granularity: 'day', from, to }, query.compare));
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/events',
    tag: 'reports',
    summary: 'Report bounces and complaints from a provider or an SMTP relay (up to 1,000)',
    description:
      'Each names a message by its id. A hard bounce or a complaint suppresses the profile: its consent ' +
      'becomes `suppressed` (recorded in its consent history with the calling key as actor), so later ' +
      'runs exclude it, and no profile write undoes it. Ids that name no ' +
      'message are returned in `unknown` and not recorded.',
    permission: 'publish',
    body: providerEventsSchema,
    responses: { 200: { description: 'recorded', schema: providerEventsResultSchema } },
    async handler({ body, req, res }) {
      const events = body.events.map((e, i) => ({
        ...messageKey(e.messageId, `events.${i}.messageId`),
        kind: e.type === 'bounced' ? ('bounce' as const) : ('complaint' as const),
        ...(e.type === 'bounced' ? { bounce: e.bounce } : {}),
        ...(e.at ? { at: new Date(e.at) } : {}),
      }));
      const unknown = await tracking.provider(events, actorOf(req));
      const unknownIds = new Set(unknown.map(keyText));
      res.json({
        recorded: events.length - unknown.length,
        unknown: body.events.filter((_, i) => unknownIds.has(keyText(events[i]))).map((e) => e.messageId),
      });
    },
  });
}
