/**
 * Delivery channels used by the activities: signed webhooks over HTTP and e-mail over SMTP. Plain Node
 * code (no Temporal imports), so it can be unit-tested against local servers.
 *
 * Error contract shared by every channel: a permanent failure (the receiver refused the message and
 * would refuse it again) is *returned* as `{ status: 'failed' }`; anything that may succeed later is
 * *thrown* (the webhook sender first retries it itself, with back-off; the SMTP sender does not).
 * What a throw means is the caller's choice: the delivery activities (./send) record that message as
 * `failed` with reason `unreachable: <message>` and do not send it again.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import retry from 'async-retry';
import nodemailer, { type NodemailerError } from 'nodemailer';

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
  /** Per-attempt timeout in ms (default 5000). */
  timeoutMs?: number;
  /** Attempts for retryable failures (5xx, network errors, time-outs), with exponential back-off (default 5). */
  attempts?: number;
  /** First back-off delay in ms (default 200; tests pass small values). */
  minBackoffMs?: number;
}

/** How much of a refusing receiver's response body ends up in the failure reason. */
const REASON_BODY_CHARS = 200;
/** Upper bound of one back-off delay. */
const MAX_BACKOFF_MS = 30_000;

const sign = (secret: string, timestamp: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

/**
 * Reads at most the first `chars` characters of a response body, then cancels the rest of the
 * stream, so a large (or endless) error page is neither buffered nor kept open.
 */
async function readSnippet(res: Response, chars: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    // Four bytes per UTF-16 code unit is more than enough for `chars` code units of UTF-8.
    while (bytes < chars * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, chars);
}

/**
 * Fields of an error-like value. Duck-typed rather than `instanceof Error`: fetch's abort reasons are
 * DOMExceptions, which come from another realm under some runtimes (Jest's VM context, for one).
 */
const errorField = (err: unknown, field: 'name' | 'message' | 'cause'): unknown =>
  typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[field] : undefined;

/** An error's message, with its cause's (fetch reports "fetch failed" and puts ECONNREFUSED in the cause). */
const messageOf = (err: unknown): string => {
  const message = errorField(err, 'message');
  if (typeof message !== 'string') return String(err);
  const cause = errorField(errorField(err, 'cause'), 'message');
  return typeof cause === 'string' ? `${message} (${cause})` : message;
};

/** Statuses outside 5xx that still mean "try again later" rather than "never". */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

/**
 * Returns a function that POSTs `payload` as JSON to `url`. Headers: content-type application/json,
 * `X-Campaign-Timestamp` (unix seconds, taken per attempt), `X-Campaign-Signature: sha256=<hex
 * HMAC-SHA256 of `${timestamp}.${body}` with secret>`, and `Idempotency-Key: <idempotencyKey>` (the
 * same on every attempt) so receivers can deduplicate.
 *
 * 2xx → delivered (detail `HTTP <status>`). Other non-5xx statuses (4xx, and 3xx: redirects are not
 * followed, a signed POST must not silently turn into a GET elsewhere) → failed (permanent) with reason
 * `HTTP <status>: <first 200 chars of response body>`. 5xx, 408, 429, network errors and time-outs →
 * retried with exponential back-off (async-retry); when attempts are exhausted, throws an Error.
 */
export function createWebhookSender(
  options: WebhookSenderOptions,
): (url: string, payload: unknown, idempotencyKey: string) => Promise<DeliveryResult> {
  const { secret, timeoutMs = 5000, attempts = 5, minBackoffMs = 200 } = options;
  if (!secret) throw new Error('createWebhookSender: secret is required');
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new Error(`createWebhookSender: attempts must be a positive integer, got ${attempts}`);
  }

  return async (url, payload, idempotencyKey) => {
    const body = JSON.stringify(payload) ?? 'null';

    const attempt = async (): Promise<DeliveryResult> => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'X-Campaign-Timestamp': timestamp,
            'X-Campaign-Signature': sign(secret, timestamp, body),
            'Idempotency-Key': idempotencyKey,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const timedOut = errorField(err, 'name') === 'TimeoutError';
        throw new Error(
          timedOut ? `no response within ${timeoutMs} ms` : `request failed: ${messageOf(err)}`,
          { cause: err },
        );
      }
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel().catch(() => undefined);
        return { status: 'delivered', detail: `HTTP ${res.status}` };
      }
      const snippet = await readSnippet(res, REASON_BODY_CHARS).catch(() => '');
      const reason = `HTTP ${res.status}: ${snippet}`;
      if (res.status >= 500 || RETRYABLE_CLIENT_STATUSES.has(res.status)) throw new Error(reason);
      return { status: 'failed', reason };
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
      throw new Error(`Webhook delivery to ${url} failed after ${attempts} attempt(s): ${last}`, {
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
}

/**
 * Returns { send, close }: send(message) sends through one pooled nodemailer SMTP transport.
 * Accepted → delivered (detail: the server's response). SMTP 5xx (responseCode >= 500) → failed with
 * reason `SMTP <code>: <response>` (the response without its repeated leading code); other errors
 * (connection, 4xx: may succeed later) → thrown, not retried here. close() ends the pool's
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
        });
        return { status: 'delivered', detail: info.response };
      } catch (err) {
        const { responseCode, response } = err as NodemailerError;
        if (typeof responseCode === 'number' && responseCode >= 500) {
          const text = (response ?? (err as Error).message).replace(/^\d{3}[ -]/, '');
          return { status: 'failed', reason: `SMTP ${responseCode}: ${text}` };
        }
        throw err;
      }
    },
    close() {
      transport.close();
    },
  };
}
