/**
 * A webhook receiver for tests: a local `node:http` server that counts every request it receives
 * per `Idempotency-Key` (`<campaign>:<run>:<recipient>`) and answers 200, after `delayMs` if set (a
 * slow receiver).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

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
  /** Keys received more than once. */
  duplicates(): string[];
  /** Requests received and not answered yet. */
  inFlight(): number;
  close(): Promise<void>;
}

/** The recipient named by an Idempotency-Key. */
export const recipientOf = (key: string) => key.split(':')[2];

export async function startWebhookReceiver(options: { delayMs?: number } = {}): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const hits = new Map<string, number>();
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
        res.writeHead(200).end('ok');
      };
      if (!options.delayMs) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, options.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    hits,
    duplicates: () => [...hits].filter(([, n]) => n > 1).map(([key]) => key),
    inFlight: () => open,
    async close() {
      timers.forEach(clearTimeout);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
