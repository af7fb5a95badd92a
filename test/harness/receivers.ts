/**
 * A webhook receiver for tests: a local `node:http` server that counts every request it receives
 * per `Idempotency-Key` (`<campaign>:<run>:<recipient>`, or `<execution>:<recipient>` for a trigger)
 * and answers 200, after `delayMs` if set (a slow receiver; a function draws a delay per request), or
 * the status `status()` returns at that moment (a receiver that is down answers 5xx).
 * `startSmtpCapture` is the SMTP counterpart: a local SMTP server keeping every message it accepts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  key: string;
  /** When the request arrived (ms since the epoch). */
  at: number;
}

export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order (counted when it arrives, before it is answered). */
  received: ReceivedRequest[];
  /** Requests per Idempotency-Key. */
  hits: Map<string, number>;
  /** Requests answered 2xx per Idempotency-Key (what the receiver accepted). */
  delivered: Map<string, number>;
  /** Keys received more than once. */
  duplicates(): string[];
  /** Requests received and not answered yet. */
  inFlight(): number;
  close(): Promise<void>;
}

/** The recipient named by an Idempotency-Key. */
export const recipientOf = (key: string) => key.split(':')[2];

export async function startWebhookReceiver(
  options: { delayMs?: number | (() => number); status?: () => number } = {},
): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const hits = new Map<string, number>();
  const delivered = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let open = 0;
  const server = http.createServer((req, res) => {
    const key = String(req.headers['idempotency-key'] ?? '');
    received.push({ key, at: Date.now() });
    hits.set(key, (hits.get(key) ?? 0) + 1);
    open++;
    req.resume();
    req.on('end', () => {
      const answer = () => {
        open--;
        const status = options.status?.() ?? 200;
        if (status >= 200 && status < 300) delivered.set(key, (delivered.get(key) ?? 0) + 1);
        res.writeHead(status).end(status < 300 ? 'ok' : 'down');
      };
      const delay = typeof options.delayMs === 'function' ? options.delayMs() : options.delayMs;
      if (!delay) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, delay);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    hits,
    delivered,
    duplicates: () => [...hits].filter(([, n]) => n > 1).map(([key]) => key),
    inFlight: () => open,
    async close() {
      timers.forEach(clearTimeout);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A local SMTP server that keeps every message it accepts (raw RFC 5322 text), in arrival order. */
export interface SmtpCapture {
  port: number;
  received: string[];
  /** Until this instant (ms since the epoch) every RCPT TO is refused with a transient 451. */
  refuseUntil: number;
  close(): Promise<void>;
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
  const received: string[] = [];
  const capture = { received, refuseUntil: 0 };
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (Date.now() < capture.refuseUntil) {
        callback(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 451 }));
      } else callback();
    },
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        received.push(raw);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  return Object.assign(capture, {
    port: (smtp.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  });
}
