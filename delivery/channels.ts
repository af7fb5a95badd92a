/**
 * Delivery channels used by the activities: signed webhooks over HTTP and e-mail over SMTP. Plain Node
 * code (no Temporal imports), so it can be unit-tested against local servers.
 *
 * Error contract shared by every channel: a permanent failure (the receiver refused the message, or
 * the target is not allowed, and it would be refused again) is *returned* as `{ status: 'failed' }`;
 * anything that may succeed later (5xx, 408, 429, SMTP 4xx, connection errors, time-outs) is *thrown*
 * (the webhook sender first retries it itself, with back-off; the SMTP sender does not). What a throw
 * means is the caller's choice: the delivery activities (./send) leave that recipient pending, commit
 * the rest of the batch and fail the attempt, so Temporal retries it later; only after the retry
 * window is it recorded `failed` with reason `unreachable: <message>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { STATUS_CODES } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import retry from 'async-retry';
import ipaddr from 'ipaddr.js';
import nodemailer, { type NodemailerError } from 'nodemailer';
import { guardedLookup, isPublicAddress } from '../runtime/network-guard';

/** The outcome of one delivery attempt sequence. */
export type DeliveryResult =
  | { status: 'delivered'; detail?: string }
  /** Permanent failure: do not retry. */
  | { status: 'failed'; reason: string };

// ---------------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------------

export interface WebhookSenderOptions {
  /** HMAC-SHA256 key used to sign each body. */
  secret: string;
  /** Per-attempt timeout in ms, until the response's status line (default 5000). */
  timeoutMs?: number;
  /** Attempts for retryable failures (5xx, network errors, time-outs), with exponential back-off (default 5). */
  attempts?: number;
  /** First back-off delay in ms (default 200; tests pass small values). */
  minBackoffMs?: number;
  /**
   * Allow targets on loopback, private, link-local and other non-public addresses (default false:
   * refused when connecting, whatever the host name resolves to then). `WEBHOOK_ALLOW_PRIVATE=true`.
   */
  allowPrivate?: boolean;
}

/** Upper bound of one back-off delay. */
const MAX_BACKOFF_MS = 30_000;

const sign = (secret: string, timestamp: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

/** Fields of an error-like value (duck-typed: errors may come from another realm under Jest). */
const errorField = (err: unknown, field: 'name' | 'message' | 'cause' | 'code'): unknown =>
  typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[field] : undefined;

/** An error's message, with its cause's when it has one. */
const messageOf = (err: unknown): string => {
  const message = errorField(err, 'message');
  if (typeof message !== 'string') return String(err);
  const cause = errorField(errorField(err, 'cause'), 'message');
  return typeof cause === 'string' ? `${message} (${cause})` : message;
};

/**
 * A status as its standard status line (`HTTP 400 Bad Request`). The standard reason phrase, not
 * the receiver's: what a receiver writes (its body, or a custom phrase) never reaches a stored
 * reason, which message viewers can read.
 */
const statusLine = (status: number) =>
  `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;

/** Statuses outside 5xx that still mean "try again later" rather than "never". */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

/** Thrown when no status line arrives in time. */
class ResponseTimeout extends Error {
  override name = 'ResponseTimeout';
}

/** Why a webhook URL may not be used before connecting (scheme, non-public IP literal), if it may not. */
function refusal(url: URL | undefined, allowPrivate: boolean): string | undefined {
  if (!url) return 'refused: not an absolute URL';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'refused: not an http(s) URL';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // An IP literal is connected to without a lookup, so guardedLookup never sees it: check it here.
  if (!allowPrivate && ipaddr.isValid(host) && !isPublicAddress(host)) {
    return `refused: ${host} is not a public address (set WEBHOOK_ALLOW_PRIVATE=true to allow)`;
  }
  return undefined;
}

/**
 * Returns a function that POSTs `payload` as JSON to `url`. Headers: content-type application/json,
 * `X-Campaign-Timestamp` (unix seconds, taken per attempt), `X-Campaign-Signature: sha256=<hex
 * HMAC-SHA256 of `${timestamp}.${body}` with secret>`, and `Idempotency-Key: <idempotencyKey>` (the
 * same on every attempt) so receivers can deduplicate.
 *
 * Sent with node:http(s), whose `lookup` is the SSRF guard (unless `allowPrivate`): a host that
 * resolves to a non-public address when connecting, or a non-public IP literal, is refused before
 * any byte leaves → failed (permanent), reason `refused: …`.
 *
 * 2xx → delivered (detail `HTTP <status>`). Other non-5xx statuses (4xx, and 3xx: redirects are not
 * followed, a signed POST must not silently turn into a GET elsewhere) → failed (permanent) with
 * the status line as reason (`HTTP 400 Bad Request`; the response body is never read). 5xx, 408,
 * 429, network errors and time-outs → retried with exponential back-off (async-retry); when attempts
 * are exhausted, throws an Error (transient: the caller may try again later).
 */
export function createWebhookSender(
  options: WebhookSenderOptions,
): (url: string, payload: unknown, idempotencyKey: string) => Promise<DeliveryResult> {
  const { secret, timeoutMs = 5000, attempts = 5, minBackoffMs = 200, allowPrivate = false } = options;
  if (!secret) throw new Error('createWebhookSender: secret is required');
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new Error(`createWebhookSender: attempts must be a positive integer, got ${attempts}`);
  }
  // Agents of this sender's own: a kept-alive socket was connected under this sender's guard.
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const lookup = allowPrivate ? undefined : (guardedLookup as unknown as LookupFunction);

  /** One POST: resolves with the response status once its status line arrives. */
  const post = (url: URL, headers: Record<string, string>, body: string) =>
    new Promise<number>((resolve, reject) => {
      const https_ = url.protocol === 'https:';
      const request = (https_ ? https : http).request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          agent: https_ ? agents.https : agents.http,
          ...(lookup ? { lookup } : {}),
        },
        (res) => {
          clearTimeout(timer);
          // The body is never read; drain it (bounded in time) so the socket can be reused.
          const drain = setTimeout(() => res.destroy(), timeoutMs);
          res.on('close', () => clearTimeout(drain));
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      const timer = setTimeout(
        () => request.destroy(new ResponseTimeout(`no response within ${timeoutMs} ms`)),
        timeoutMs,
      );
      request.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      request.end(body);
    });

  return async (target, payload, idempotencyKey) => {
    const body = JSON.stringify(payload) ?? 'null';
    const url = URL.canParse(target) ? new URL(target) : undefined;
    const refused = refusal(url, allowPrivate);
    if (refused) return { status: 'failed', reason: refused };

    const attempt = async (): Promise<DeliveryResult> => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      let status: number;
      try {
        status = await post(
          url!,
          {
            'content-type': 'application/json',
            'X-Campaign-Timestamp': timestamp,
            'X-Campaign-Signature': sign(secret, timestamp, body),
            'Idempotency-Key': idempotencyKey,
          },
          body,
        );
      } catch (err) {
        if (errorField(err, 'code') === 'ENONPUBLIC') {
          return {
            status: 'failed',
            reason: `refused: ${messageOf(err)} (set WEBHOOK_ALLOW_PRIVATE=true to allow)`,
          };
        }
        if (err instanceof ResponseTimeout) throw err;
        throw new Error(`request failed: ${messageOf(err)}`, { cause: err });
      }
      if (status >= 200 && status < 300) return { status: 'delivered', detail: `HTTP ${status}` };
      if (status >= 500 || RETRYABLE_CLIENT_STATUSES.has(status)) throw new Error(statusLine(status));
      return { status: 'failed', reason: statusLine(status) };
    };

    try {
      return await retry(attempt, {
        retries: attempts - 1,
        factor: 2,
        minTimeout: minBackoffMs,
        maxTimeout: Math.max(minBackoffMs, MAX_BACKOFF_MS),
        randomize: true,
      });
    } catch (err) {
      const last = err instanceof Error ? err.message : String(err);
      throw new Error(`Webhook delivery to ${target} failed after ${attempts} attempt(s): ${last}`, {
        cause: err,
      });
    }
  };
}

/**
 * Verifies a signature as a receiver would (exported for tests and documentation): `signature` is the
 * `X-Campaign-Signature` header value (`sha256=<hex>`), `timestamp` the `X-Campaign-Timestamp` header
 * and `body` the raw request body. Timing-safe. Receivers should also reject stale timestamps (for
 * example older than five minutes) to limit replays, and deduplicate on `Idempotency-Key`.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
): boolean {
  const expected = Buffer.from(sign(secret, timestamp, body));
  const actual = Buffer.from(signature);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// ---------------------------------------------------------------------------------------------------
// E-mail
// ---------------------------------------------------------------------------------------------------

export interface SmtpSenderOptions {
  host: string;
  port: number;
  /** TLS from the start (default false). */
  secure?: boolean;
  user?: string;
  password?: string;
  /** Ignore STARTTLS / self-signed issues for local test servers (default false). */
  allowInsecure?: boolean;
}

/** One e-mail to send. */
export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  messageId?: string;
  /** Extra headers (List-Unsubscribe, …). */
  headers?: Record<string, string>;
}

/**
 * Returns { send, close }: send(message) sends through one pooled nodemailer SMTP transport.
 * Accepted → delivered (detail: the server's response). A permanent refusal → failed: an SMTP 5xx
 * reply (reason `SMTP <code>: <response>`, the response without its repeated leading code), or an
 * envelope nodemailer refuses itself (no valid recipient). Anything that may succeed later → thrown,
 * not retried here: SMTP 4xx, connection and TLS errors, time-outs, and authentication failures (a
 * 535 is a configuration problem of ours, not a refusal of the recipient). close() ends the pool's
 * connections.
 */
export function createSmtpSender(options: SmtpSenderOptions): {
  send(message: EmailMessage): Promise<DeliveryResult>;
  close(): void;
} {
  const { host, port, secure = false, user, password, allowInsecure = false } = options;
  const transport = nodemailer.createTransport({
    pool: true,
    host,
    port,
    secure,
    ...(user !== undefined ? { auth: { user, pass: password ?? '' } } : {}),
    ...(allowInsecure ? { ignoreTLS: true, tls: { rejectUnauthorized: false } } : {}),
  });

  return {
    async send(message) {
      try {
        const info = await transport.sendMail({
          from: message.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          ...(message.html !== undefined ? { html: message.html } : {}),
          ...(message.messageId !== undefined ? { messageId: message.messageId } : {}),
          ...(message.headers !== undefined ? { headers: message.headers } : {}),
        });
        return { status: 'delivered', detail: info.response };
      } catch (err) {
        const { responseCode, response, code } = err as NodemailerError;
        if (typeof responseCode === 'number' && responseCode >= 500 && code !== 'EAUTH') {
          const text = (response ?? (err as Error).message).replace(/^\d{3}[ -]/, '');
          return { status: 'failed', reason: `SMTP ${responseCode}: ${text}` };
        }
        if (code === 'EENVELOPE' && responseCode === undefined) {
          return { status: 'failed', reason: `invalid envelope: ${(err as Error).message}` };
        }
        throw err;
      }
    },
    close() {
      transport.close();
    },
  };
}
