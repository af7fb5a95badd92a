/**
 * Tracking added to a rendered message, after its templates are rendered (delivery/send.ts calls it):
 *
 * - every http(s) link in a text body (email, sms, push) is rewritten to `GET /t/c/<token>`, the
 *   token carrying the link's index and destination;
 * - email also gets an HTML alternative (the text body escaped, links as anchors, an unsubscribe
 *   link, and a 1×1 open pixel `GET /t/o/<token>`), an unsubscribe line at the end of the text body,
 *   and `listUnsubscribe`: the one-click URL sent as `List-Unsubscribe` with
 *   `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058);
 * - webhooks are left alone (their receivers are systems, not people).
 */
import Handlebars from 'handlebars';
import type { Channel } from '../domain/types';
import {
  MAX_TOKEN_LENGTH,
  trackingUrl,
  type TrackingConfig,
  type TrackingRef,
} from '../runtime/tracking-tokens';

/** The message a rendering is for. */
export type MessageRef = Omit<TrackingRef, 'kind' | 'link' | 'url' | 'sentAt'>;

/** Links in text: up to whitespace, quotes or angle brackets; trailing punctuation is not part of them. */
const LINK = /https?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]]/g;

const escape = (s: string) => Handlebars.Utils.escapeExpression(s);

/** Adds tracking to `rendered` (a new object; the fields the channel does not use stay as they are). */
export function addTracking(
  config: TrackingConfig,
  channel: Channel,
  ref: MessageRef,
  rendered: Record<string, string>,
): Record<string, string> {
  if (channel === 'webhook' || rendered.body === undefined) return rendered;
  const sentAt = Date.now();
  const url = (kind: TrackingRef['kind'], extra: Partial<TrackingRef> = {}) =>
    trackingUrl(config, { ...ref, kind, sentAt, ...extra });
  const links: Array<{ original: string; tracked: string }> = [];
  const body = rendered.body.replace(LINK, (original) => {
    const tracked = url('c', { link: links.length, url: original });
    // A destination too long for a token stays as it is (untracked).
    if (tracked.length - config.baseUrl.length - '/t/c/'.length > MAX_TOKEN_LENGTH) return original;
    links.push({ original, tracked });
    return tracked;
  });
  if (channel !== 'email') return { ...rendered, body };

  const unsubscribe = url('u');
  let html = escape(rendered.body);
  // The escaped body holds the links escaped; each is replaced, in order, by an anchor.
  let at = 0;
  for (const { original, tracked } of links) {
    const needle = escape(original);
    const found = html.indexOf(needle, at);
    if (found < 0) continue;
    const anchor = `<a href="${escape(tracked)}">${needle}</a>`;
    html = html.slice(0, found) + anchor + html.slice(found + needle.length);
    at = found + anchor.length;
  }
  return {
    ...rendered,
    body: `${body}\n\nUnsubscribe: ${unsubscribe}`,
    html:
      `<!doctype html><html><body><div style="white-space:pre-wrap">${html}</div>` +
      `<p><a href="${escape(unsubscribe)}">Unsubscribe</a></p>` +
      `<img src="${escape(url('o'))}" width="1" height="1" alt="" style="display:none"></body></html>`,
    listUnsubscribe: unsubscribe,
  };
}

/** The RFC 8058 headers of a rendered email that has an unsubscribe link. */
export function unsubscribeHeaders(rendered: Record<string, string>): Record<string, string> {
  return rendered.listUnsubscribe
    ? {
        'List-Unsubscribe': `<${rendered.listUnsubscribe}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      }
    : {};
}
