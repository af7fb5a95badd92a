/**
 * Public tracking routes, reached by recipients' mail clients (no API key): the open pixel, link
 * redirects and the one-click unsubscribe (RFC 8058). Each takes only a signed token; a token that
 * is not ours, altered, or of another kind gets 404 and records nothing. A click redirects to the
 * destination inside the token, never to one from the request. Stopped campaigns' links keep working.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { verifyToken, type TrackingConfig, type TrackingRef } from '../../runtime/tracking-tokens';
import type { TrackingEventRow } from '../store';
import { HttpProblem } from '../../api/problem';
import type { Routes } from '../../api/routing';
import { tokenParams } from '../../api/schemas';
import type { Services } from '../../api/services';
import { classifyHit, uaClass } from '../user-agents';

const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const html = z.string().meta({ description: 'a short HTML page' });

const limited = {
  429: { description: 'this client address exceeded its rate (TRACKING_RATE_LIMIT; see Retry-After)' },
};

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;max-width:32em;margin:3em auto">${body}</body></html>`;

export function trackingRoutes(
  routes: Routes,
  { tracking, trackingRateLimit }: Services,
  config: TrackingConfig,
): void {
  /** The token's message, when it is valid and of `kind`; else 404. */
  const refOf = (token: string, kind: TrackingRef['kind']): TrackingRef => {
    const ref = verifyToken(config.keys, token);
    if (!ref || ref.kind !== kind) throw new HttpProblem(404, 'TOKEN_NOT_FOUND', 'no such tracking link');
    return ref;
  };
  const row = (ref: TrackingRef, kind: TrackingEventRow['kind']) => ({
    campaignId: ref.campaignId,
    version: ref.version,
    source: ref.source,
    sourceId: ref.sourceId,
    recipient: ref.recipient,
    kind,
  });
  const hit = (req: Request, ref: TrackingRef) =>
    ({ userAgent: req.get('user-agent'), ip: req.ip, sentAt: ref.sentAt, now: Date.now() }) as const;

  routes.add({
    method: 'get',
    path: '/t/o/:token',
    tag: 'tracking',
    summary: 'Open pixel: records an open and answers a 1×1 GIF',
    description:
      'Opens by Apple Mail Privacy Protection, image proxies and bots are recorded as machine opens.',
    params: tokenParams,
    rateLimit: trackingRateLimit,
    responses: {
      ...limited,
      200: { description: 'a transparent 1×1 GIF', schema: z.string(), contentType: 'image/gif' },
      404: { description: 'not a valid open token' },
    },
    async handler({ params, req, res }) {
      const ref = refOf(params.token, 'o');
      await tracking.record({ ...row(ref, 'open'), ...classifyHit('open', hit(req, ref)) });
      res.set('Cache-Control', 'no-store, private').type('image/gif').send(PIXEL);
    },
  });

  routes.add({
    method: 'get',
    path: '/t/c/:token',
    tag: 'tracking',
    summary: 'Tracked link: records a click and redirects to the link’s destination',
    description:
      'Clicks by known scanners, or within 2 s of the send, are recorded as bot clicks. The destination ' +
      'comes from the signed token only.',
    params: tokenParams,
    rateLimit: trackingRateLimit,
    responses: {
      ...limited,
      302: { description: 'redirect to the destination (Location)' },
      404: { description: 'not a valid click token' },
    },
    async handler({ params, req, res }) {
      const ref = refOf(params.token, 'c');
      if (!/^https?:\/\//i.test(ref.url!))
        throw new HttpProblem(404, 'TOKEN_NOT_FOUND', 'no such tracking link');
      await tracking.record({ ...row(ref, 'click'), link: ref.link, ...classifyHit('click', hit(req, ref)) });
      res.set('Cache-Control', 'no-store, private').redirect(302, ref.url!);
    },
  });

  routes.add({
    method: 'get',
    path: '/t/u/:token',
    tag: 'tracking',
    summary: 'Unsubscribe page: asks to confirm (a GET changes nothing; link scanners fetch it too)',
    params: tokenParams,
    rateLimit: trackingRateLimit,
    responses: {
      ...limited,
      200: { description: 'a confirmation form that POSTs here', schema: html, contentType: 'text/html' },
      404: { description: 'not a valid unsubscribe token' },
    },
    handler({ params, res }) {
      refOf(params.token, 'u');
      res
        .type('text/html')
        .send(
          page(
            'Unsubscribe',
            '<p>Stop receiving these messages?</p><form method="post"><button type="submit">Unsubscribe</button></form>',
          ),
        );
    },
  });

  routes.add({
    method: 'post',
    path: '/t/u/:token',
    tag: 'tracking',
    summary: 'One-click unsubscribe (RFC 8058 `List-Unsubscribe=One-Click`, or the confirmation form)',
    description:
      'Withdraws the profile’s consent (unsubscribed, recorded in its consent history with the recipient ' +
      'as actor and unsubscribe_link as source; a suppressed profile stays suppressed) and records an ' +
      'unsubscribe event.',
    idempotent: false,
    params: tokenParams,
    rateLimit: trackingRateLimit,
    responses: {
      ...limited,
      200: { description: 'unsubscribed', schema: html, contentType: 'text/html' },
      404: { description: 'not a valid unsubscribe token' },
    },
    async handler({ params, req, res }) {
      const ref = refOf(params.token, 'u');
      await tracking.unsubscribe({
        ...row(ref, 'unsubscribe'),
        flag: 'human',
        reason: null,
        uaClass: uaClass(req.get('user-agent')),
      });
      res.type('text/html').send(page('Unsubscribed', '<p>You are unsubscribed.</p>'));
    },
  });
}
